"""Following ``$ref``: a description, the documents it refers to, and which references name a
component schema. Resolution itself (JSON pointers, escapes, other documents) is done by
``referencing``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable

from .model import SpecError

SCHEMAS_POINTER = "/components/schemas/"
# The URI of a description given as data rather than read from a path or URL.
IN_MEMORY_URI = "urn:spec-diff:document"


class Document:
    """A parsed description and the means to follow its references.

    ``uri`` is where it was read from (relative references to other files resolve against
    it); ``retrieve`` reads such another document given its URI, or is None when only
    references inside the description are allowed.
    """

    def __init__(
        self,
        contents: Mapping[str, Any],
        uri: str = IN_MEMORY_URI,
        retrieve: Callable[[str], Any] | None = None,
    ) -> None:
        self.contents = contents
        self.uri = uri
        self.schemas: Mapping[str, Any] = (contents.get("components") or {}).get("schemas") or {}
        self._retrieve = retrieve
        self._fetched: dict[str, Resource[Any]] = {}
        self._registry: Registry[Any] = Registry(retrieve=self._resource).with_resource(
            uri, Resource.opaque(contents)
        )

    def _resource(self, uri: str) -> Resource[Any]:
        if self._retrieve is None:
            raise NoSuchResource(ref=uri)
        if uri not in self._fetched:  # the registry is immutable: remember what was read
            self._fetched[uri] = Resource.opaque(self._retrieve(uri))
        return self._fetched[uri]

    def lookup(self, ref: object, base: str) -> tuple[Any, str]:
        """What ``ref``, met in the document at ``base``, points to, and that document's URI."""
        target = _target(ref, base)
        try:
            resolved = self._registry.resolver(base).lookup(str(ref))
        except Unresolvable as exc:
            cause = exc.__cause__  # a referenced file that could not be read says why
            while cause is not None and not isinstance(cause, SpecError):
                cause = cause.__cause__
            why = f" ({cause})" if cause is not None else ""
            raise SpecError(f"unresolvable $ref {ref!r}{why}") from None
        return resolved.contents, urldefrag(target).url

    def target(self, ref: object, base: str) -> str:
        """The absolute URI that ``ref``, met in the document at ``base``, points to."""
        return _target(ref, base)

    def schema_uri(self, name: str) -> str:
        """The URI of the component schema ``name`` (one spelling for every reference to it)."""
        return f"{self.uri}#{SCHEMAS_POINTER}{name}"

    def schema_name(self, ref: object, base: str) -> str | None:
        """The name of the description's component schema that ``ref`` names, if it names one.

        Such a reference stays a reference in the facts, and the schema is compared once,
        under its own name.
        """
        document, fragment = urldefrag(_target(ref, base))
        if document != self.uri or not fragment.startswith(SCHEMAS_POINTER):
            return None
        rest = fragment[len(SCHEMAS_POINTER) :]
        if "/" in rest:
            return None  # a pointer into a named schema, not the schema itself
        name = unquote(rest).replace("~1", "/").replace("~0", "~")
        if name not in self.schemas:
            raise SpecError(f"unresolvable $ref {ref!r}")
        return name

    def deref(self, node: Any, base: str) -> tuple[Any, str]:
        """Follow a chain of references to a parameter, response, body or header."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            target = _target(ref, base)
            if target in seen:
                raise SpecError(f"circular $ref {ref!r}")
            seen.add(target)
            node, base = self.lookup(ref, base)
        return node, base


def _target(ref: object, base: str) -> str:
    """The absolute URI ``ref`` points to from ``base`` (a URN base keeps in-document refs)."""
    if not isinstance(ref, str):
        raise SpecError(f"a $ref must be a string, found {ref!r}")
    if ref.startswith("#"):
        return urldefrag(base).url + ref
    return urljoin(base, ref)


def as_document(doc: Document | Mapping[str, Any]) -> Document:
    """``doc`` as a ``Document`` (a mapping may refer only inside itself)."""
    return doc if isinstance(doc, Document) else Document(doc)
