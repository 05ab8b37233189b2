"""Compare the facts of the pinned API description with an upstream one.

    python tools/spec_diff.py PINNED UPSTREAM [--json] [--excluded FILE]

PINNED is ``openapi.yaml``; UPSTREAM is a path or an http(s) URL of an OpenAPI 3 description
in YAML or JSON (Neon publishes JSON). The covered operations are the ones in PINNED; for each
of them, and for every component schema they reach, the report says what UPSTREAM adds,
removes or changes. "Added" means only UPSTREAM has it, "removed" means only PINNED has it.

Facts are what shapes requests, responses and the generated client: an operation's method,
path, tags, parameters (name, location, required, schema), request body and responses per
status and media type, and in every schema its type, format, pattern, length and value limits,
nullable, default, required properties, enum values, ``x-`` extensions (``x-sensitive`` among
them), properties, items and variants. Descriptions, summaries, titles and examples are not
facts. ``$ref`` is resolved by ``referencing`` (inside the description, or in files and URLs
relative to it); a reference to a component schema stays a reference, and that schema is
compared once under its own name. ``allOf`` is flattened into one schema, and nested objects
and arrays are compared property by property. Security schemes and servers are not compared.

Upstream operations in the tags the pinned operations carry that are neither covered nor
listed in the excluded file (default: ``tools/spec_diff_excluded.txt``; one operationId a
line, ``#`` starts a comment) are differences too: that is how a new endpoint for keys shows
up. A listed operation that is gone upstream is only a note. An upstream description that
holds nothing but covered operations is an extract (Neon's description cut down to what we
use): one note says so, instead of one per excluded operation.

Exit status: 0 when the facts are identical (notes do not count), 1 when they differ,
2 on error (unreadable file, bad URL, not an OpenAPI 3 document), with a one-line message.
``--json`` prints the object documented in ``specdiff.render``.

One module per job: ``source`` reads, ``refs`` follows references, ``schemas`` and
``operations`` extract facts, ``compare`` diffs, ``messages`` and ``render`` word the report,
``cli`` parses the arguments.
"""

from .cli import DEFAULT_EXCLUDED, main
from .compare import diff, diff_operation, diff_schema
from .messages import describe
from .model import Change, Entry, Note, Report, SpecError
from .operations import Operation, index
from .refs import Document
from .render import JSONFORMAT, render_json, render_text
from .source import load, load_excluded, open_document, parse

__all__ = [
    "DEFAULT_EXCLUDED",
    "JSONFORMAT",
    "Change",
    "Document",
    "Entry",
    "Note",
    "Operation",
    "Report",
    "SpecError",
    "describe",
    "diff",
    "diff_operation",
    "diff_schema",
    "index",
    "load",
    "load_excluded",
    "main",
    "open_document",
    "parse",
    "render_json",
    "render_text",
]
