"""Compare the facts of the pinned API description with an upstream one.

    python tools/spec_diff.py PINNED UPSTREAM [--json] [--excluded FILE]

PINNED is ``openapi.yaml``; UPSTREAM is a path or an http(s) URL of an OpenAPI 3 description
in YAML or JSON (Neon publishes JSON). The covered operations are the ones in PINNED; for each
of them, and for every named schema they reach, the report says what UPSTREAM adds, removes or
changes. "Added" means only UPSTREAM has it, "removed" means only PINNED has it.

Facts are what shapes requests, responses and the generated client: an operation's method,
path, tags, parameters (name, location, required, schema), request body and responses per
status and media type, and in every schema its type, format, pattern, length and value limits,
nullable, default, required properties, enum values, ``x-`` extensions (``x-sensitive`` among
them), properties, items and variants. Descriptions, summaries, titles and examples are not
facts. ``$ref`` is resolved (a reference to a named schema stays a reference, and that schema
is compared once under its own name), ``allOf`` is flattened into one schema, and nested
objects and arrays are compared property by property. Security schemes and servers are not
compared.

Upstream operations in the tags the pinned operations carry that are neither covered nor
listed in the excluded file (default: ``spec_diff_excluded.txt`` next to this script; one
operationId a line, ``#`` starts a comment) are differences too: that is how a new endpoint
for keys shows up. A listed operation that is gone upstream is only a note.

Exit status: 0 when the facts are identical (notes do not count), 1 when they differ,
2 on error (unreadable file, bad URL, not an OpenAPI 3 document), with a one-line message.

``--json`` prints one object (keys are stable; new keys may be added, none renamed)::

    {
      "format": 1,
      "pinned": "openapi.yaml",            # the arguments as given
      "upstream": "...",
      "identical": false,                  # true exactly when the exit status is 0
      "operations": [                      # only operations with differences, by operationId
        {"operation_id": "createApiKey", "method": "POST", "path": "/api_keys",
         "status": "changed",              # or "missing_upstream", "new_upstream"
         "changes": [CHANGE, ...]}
      ],
      "schemas": [                         # only schemas with differences, by name
        {"name": "ApiKeyCreateResponse",
         "status": "changed",              # or "missing_upstream", "new_upstream"
         "used_by": ["createApiKey"],      # covered operations reaching it, either side
         "changes": [CHANGE, ...]}
      ],
      "notes": [{"kind": "excluded_missing_upstream", "operation_id": "...", "message": "..."}]
    }

    CHANGE = {"where": "response 200 application/json",   # "" for the operation or schema
              "at": "created_by",                          # schema path: a.b, [] = items
              "fact": "format",                            # keyword, or "property", "required",
                                                           # "parameter", "response", ...
              "change": "removed",                         # "added", "removed" or "changed"
              "pinned": "uuid", "upstream": null,          # JSON values; null when absent
              "message": "created_by: format: \"uuid\" -> (none)"}
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

JSONFORMAT = 1
DEFAULT_EXCLUDED = Path(__file__).resolve().with_name("spec_diff_excluded.txt")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_PREFIX = "#/components/schemas/"

# Documentation only: never a fact.
NOT_FACTS = frozenset(
    {"description", "summary", "title", "example", "examples", "externalDocs", "xml", "$comment"}
)
# Boolean keywords whose absence means false.
FALSE_BY_DEFAULT = frozenset({"nullable", "readOnly", "writeOnly", "deprecated", "uniqueItems"})
# Parameter, header and media-type keywords that are facts (besides the schema).
PARAMETER_FACTS = ("required", "deprecated", "style", "explode", "allowEmptyValue", "allowReserved")

# How a path into a schema names what is nested in it (properties are ``a.b``).
NESTED_SUFFIX = {"items": "[]", "not": "(not)", "additionalProperties": "{}"}

Facts = dict[str, Any]


class SpecError(Exception):
    """A description could not be read or is not a usable OpenAPI 3 document."""


# -- load ------------------------------------------------------------------------------------


def load(source: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """Read an OpenAPI 3 description (YAML or JSON) from a path or an http(s) URL."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", source)
    if scheme:
        if scheme.group(1).lower() not in ("http", "https"):
            raise SpecError(f"{source}: only http and https URLs are supported")
        try:
            with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SpecError(f"{source}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SpecError(f"{source}: cannot fetch ({reason})") from None
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise SpecError(f"{source}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{source}: not UTF-8 text") from None
    return parse(text, source)


def parse(text: str, source: str = "<text>") -> dict[str, Any]:
    """Parse YAML or JSON text and check it is an OpenAPI 3 document."""
    try:
        if text.lstrip().startswith("{"):
            doc = json.loads(text)
        else:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            doc = yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise SpecError(f"{source}: not valid YAML or JSON ({problem}{where})") from None
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3."):
        raise SpecError(f"{source}: not an OpenAPI 3 document (no 'openapi: 3.x' field)")
    if not isinstance(doc.get("paths"), dict):
        raise SpecError(f"{source}: not an OpenAPI 3 document (no 'paths' mapping)")
    return doc


def load_excluded(path: Path) -> list[str]:
    """Read the operationIds deliberately left out: one a line, ``#`` starts a comment."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    names = (line.split("#", 1)[0].strip() for line in lines)
    return [name for name in names if name]


# -- extract facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """Where an operation is and how it is tagged; its facts are computed on demand."""

    key: str  # the operationId, or "METHOD /path" when it has none
    method: str
    path: str
    tags: tuple[str, ...]


def _pointer(doc: Mapping[str, Any], ref: str) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise SpecError(f"unsupported $ref {ref!r} (only references inside the document)")
    node: Any = doc
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SpecError(f"unresolvable $ref {ref!r}")
    return node


def _deref(doc: Mapping[str, Any], node: Any) -> Any:
    """Follow ``$ref`` chains of non-schema objects (parameters, responses, bodies, headers)."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise SpecError(f"circular $ref {ref!r}")
        seen.add(ref)
        node = _pointer(doc, ref)
    return node


def _schema_name(ref: Any) -> str | None:
    if (
        isinstance(ref, str)
        and ref.startswith(SCHEMA_PREFIX)
        and "/" not in ref[len(SCHEMA_PREFIX) :]
    ):
        return ref[len(SCHEMA_PREFIX) :]
    return None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _normalise_value(key: str, value: Any) -> Any:
    """Order-free lists are sorted so that reordering upstream is not a difference."""
    if key in ("enum", "required") or (
        key.startswith("x-")
        and isinstance(value, list)
        and all(not isinstance(item, dict | list) for item in value)
    ):
        return sorted({_canonical(item): item for item in value}.values(), key=_canonical)
    return value


def _merge(left: Facts, right: Facts) -> Facts:
    """Combine two flattened ``allOf`` parts: properties merge, required and lists unite."""
    out = dict(left)
    for key, value in right.items():
        if key not in out:
            out[key] = value
        elif key == "properties":
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = _merge(props[name], sub) if name in props else sub
            out[key] = props
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            previous = out[key]
            out[key] = _merge(previous, value) if isinstance(previous, dict) else value
        elif key == "required" or (key.startswith("x-") and isinstance(value, list)):
            out[key] = _normalise_value(key, [*out[key], *value])
        else:
            out[key] = value
    return out


def schema_facts(doc: Mapping[str, Any], schema: Any, expanding: tuple[str, ...] = ()) -> Facts:
    """The facts of a schema: ``allOf`` flattened, named references kept as ``{"$ref": name}``.

    ``expanding`` holds the named schemas being inlined through ``allOf``, to stop cycles.
    """
    if not isinstance(schema, dict):
        if isinstance(schema, bool):  # JSON Schema's true/false schemas (OpenAPI 3.1)
            return {} if schema else {"not": {}}
        raise SpecError(f"a schema must be a mapping, found {type(schema).__name__}")
    facts: Facts = {}
    if "$ref" in schema:
        name = _schema_name(schema["$ref"])
        if name is not None:
            components = doc.get("components", {}).get("schemas", {})
            if name not in components:
                raise SpecError(f"unresolvable $ref {schema['$ref']!r}")
            facts["$ref"] = name
        else:
            facts = schema_facts(doc, _pointer(doc, schema["$ref"]), expanding)
    parts = schema.get("allOf", ())
    if len(parts) == 1 and "$ref" not in schema and _is_plain_reference(parts[0]):
        facts = schema_facts(doc, parts[0], expanding)  # allOf: [$ref] only wraps a reference
    else:
        for part in parts:
            facts = _merge(facts, _expand(doc, part, expanding))
    for key, value in schema.items():
        if key in NOT_FACTS or key in ("$ref", "allOf"):
            continue
        if key == "properties":
            facts = _merge(
                facts,
                {"properties": {n: schema_facts(doc, s, expanding) for n, s in value.items()}},
            )
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            sub = schema_facts(doc, value, expanding)
            if key == "additionalProperties" and not sub:
                continue  # {} allows anything, as an absent keyword does
            facts = _merge(facts, {key: sub})
        elif key in ("oneOf", "anyOf"):
            facts[key] = sorted((schema_facts(doc, s, expanding) for s in value), key=_canonical)
        elif key == "discriminator" and isinstance(value, dict):
            mapping = {k: _schema_name(v) or v for k, v in value.get("mapping", {}).items()}
            facts[key] = {"propertyName": value.get("propertyName"), "mapping": mapping}
        elif key == "type" and isinstance(value, list):  # OpenAPI 3.1: ["string", "null"]
            kinds = sorted(t for t in value if t != "null")
            if "null" in value:
                facts["nullable"] = True
            if kinds:
                facts["type"] = kinds[0] if len(kinds) == 1 else kinds
        elif (key in FALSE_BY_DEFAULT and value is False) or (
            key == "additionalProperties" and value is True
        ):
            continue
        else:
            facts = _merge(facts, {key: _normalise_value(key, value)})
    return facts


def _is_plain_reference(part: Any) -> bool:
    """Whether an ``allOf`` member is a bare reference to a named schema."""
    return (
        isinstance(part, dict)
        and _schema_name(part.get("$ref")) is not None
        and set(part) <= {"$ref"} | NOT_FACTS
    )


def _expand(doc: Mapping[str, Any], part: Any, expanding: tuple[str, ...]) -> Facts:
    """An ``allOf`` member, with a reference to a named schema inlined."""
    if isinstance(part, dict) and "$ref" in part:
        name = _schema_name(part["$ref"])
        if name is not None:
            if name in expanding:
                return {"$ref": name}  # a schema built on itself: keep the reference
            target = doc.get("components", {}).get("schemas", {}).get(name)
            if target is None:
                raise SpecError(f"unresolvable $ref {part['$ref']!r}")
            rest = {k: v for k, v in part.items() if k != "$ref"}
            return _merge(
                schema_facts(doc, target, (*expanding, name)),
                schema_facts(doc, rest, expanding),
            )
    return schema_facts(doc, part, expanding)


def _content_facts(doc: Mapping[str, Any], content: Any) -> Facts:
    return {
        str(media): schema_facts(doc, body.get("schema", {}))
        for media, body in (content or {}).items()
    }


def _parameter_facts(doc: Mapping[str, Any], param: Mapping[str, Any]) -> Facts:
    facts: Facts = {}
    for key in PARAMETER_FACTS:
        value = param.get(key, False if key in ("required", "deprecated") else None)
        if value is not None:
            facts[key] = value
    if param.get("in") == "path":
        facts["required"] = True
    if "schema" in param:
        facts["schema"] = schema_facts(doc, param["schema"])
    if "content" in param:
        facts["content"] = _content_facts(doc, param["content"])
    facts.update({k: v for k, v in param.items() if k.startswith("x-")})
    return facts


def operation_facts(
    doc: Mapping[str, Any], method: str, path: str, path_item: Mapping[str, Any]
) -> Facts:
    """The facts of one operation: method, path, tags, parameters, request body, responses."""
    op = path_item[method]
    if not isinstance(op, dict):
        raise SpecError(f"{method.upper()} {path}: an operation must be a mapping")
    params: Facts = {}
    for raw in [*path_item.get("parameters", ()), *op.get("parameters", ())]:
        param = _deref(doc, raw)
        if not isinstance(param, dict) or "name" not in param or "in" not in param:
            raise SpecError(f"{method.upper()} {path}: a parameter needs 'name' and 'in'")
        params[f"{param['in']} {param['name']}"] = _parameter_facts(doc, param)
    facts: Facts = {
        "method": method.upper(),
        "path": path,
        "tags": sorted(op.get("tags", ())),
        "parameters": params,
        "responses": {},
    }
    if op.get("deprecated"):
        facts["deprecated"] = True
    if "requestBody" in op:
        body = _deref(doc, op["requestBody"])
        facts["requestBody"] = {
            "required": bool(body.get("required", False)),
            "content": _content_facts(doc, body.get("content")),
        }
    for status, raw in (op.get("responses") or {}).items():
        response = _deref(doc, raw)
        headers = {
            str(name): _parameter_facts(doc, _deref(doc, header))
            for name, header in (response.get("headers") or {}).items()
        }
        facts["responses"][str(status)] = {
            "content": _content_facts(doc, response.get("content")),
            "headers": headers,
        }
    facts.update({k: v for k, v in op.items() if k.startswith("x-")})
    return facts


def index(doc: Mapping[str, Any]) -> dict[str, Operation]:
    """Every operation of a parsed document, by operationId."""
    operations: dict[str, Operation] = {}
    for path, raw in doc["paths"].items():
        item = _deref(doc, raw)
        if not isinstance(item, dict):
            raise SpecError(f"path {path}: a path item must be a mapping")
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            if not isinstance(op, dict):
                raise SpecError(f"{method.upper()} {path}: an operation must be a mapping")
            key = str(op.get("operationId") or f"{method.upper()} {path}")
            tags = tuple(str(tag) for tag in op.get("tags", ()))
            operations[key] = Operation(key, method.upper(), str(path), tags)
    return operations


def facts_of(doc: Mapping[str, Any], operation: Operation) -> Facts:
    """The facts of one indexed operation."""
    item = _deref(doc, doc["paths"][operation.path])
    return operation_facts(doc, operation.method.lower(), operation.path, item)


class Schemas:
    """The named schemas of one document, flattened when first asked for."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self._doc = doc
        self._raw: Mapping[str, Any] = (doc.get("components") or {}).get("schemas") or {}
        self._facts: dict[str, Facts] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __getitem__(self, name: str) -> Facts:
        if name not in self._facts:
            self._facts[name] = schema_facts(self._doc, self._raw[name], (name,))
        return self._facts[name]


def references(schema: Facts) -> Iterator[str]:
    """Names of the named schemas a flattened schema refers to directly."""
    if isinstance(schema.get("$ref"), str):
        yield schema["$ref"]
    subs: list[Any] = [*schema.get("properties", {}).values(), *schema.get("oneOf", ())]
    subs += [*schema.get("anyOf", ()), schema.get("items"), schema.get("not")]
    subs.append(schema.get("additionalProperties"))
    for sub in subs:
        if isinstance(sub, dict):
            yield from references(sub)


def operation_schemas(facts: Facts) -> Iterator[Facts]:
    """The top-level schemas of an operation: parameters, request body, responses, headers."""
    carriers: list[Facts] = list(facts["parameters"].values())
    for response in facts["responses"].values():
        carriers += [{"content": response["content"]}, *response["headers"].values()]
    if "requestBody" in facts:
        carriers.append(facts["requestBody"])
    for carrier in carriers:
        if "schema" in carrier:
            yield carrier["schema"]
        yield from carrier.get("content", {}).values()


def reached(operations: Mapping[str, Facts], schemas: Schemas) -> dict[str, set[str]]:
    """For each named schema the operations reach (transitively): which operations."""
    users: dict[str, set[str]] = {}
    for key, facts in operations.items():
        todo = [name for schema in operation_schemas(facts) for name in references(schema)]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            users.setdefault(name, set()).add(key)
            if name in schemas:
                todo.extend(references(schemas[name]))
    return users


# -- diff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference; ``pinned``/``upstream`` are None where that side lacks the fact."""

    where: str
    at: str
    fact: str
    change: str  # "added", "removed", "changed"
    pinned: Any = None
    upstream: Any = None

    @property
    def message(self) -> str:
        """The change in one line of text."""
        return _message(self)


@dataclass(frozen=True)
class Entry:
    """The differences of one operation or one schema."""

    name: str
    status: str  # "changed", "missing_upstream", "new_upstream"
    changes: tuple[Change, ...]
    method: str = ""
    path: str = ""
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """Something worth knowing that is not a difference in facts."""

    kind: str
    operation_id: str
    message: str


@dataclass(frozen=True)
class Report:
    """The outcome of a comparison."""

    pinned: str
    upstream: str
    operations: tuple[Entry, ...]
    schemas: tuple[Entry, ...]
    notes: tuple[Note, ...]
    counts: tuple[int, int] = (0, 0)  # covered operations and reached schemas compared

    @property
    def identical(self) -> bool:
        """Whether no fact differs (notes do not count)."""
        return not self.operations and not self.schemas


def _kind(left: Any, right: Any) -> str:
    if left is None:
        return "added"
    if right is None:
        return "removed"
    return "changed"


def _child(at: str, name: str) -> str:
    return f"{at}.{name}" if at else name


def diff_schema(left: Facts, right: Facts, where: str = "", at: str = "") -> list[Change]:
    """Differences between two flattened schemas, property by property."""
    if left.get("$ref") != right.get("$ref"):
        return [Change(where, at, "schema", "changed", left, right)]
    changes: list[Change] = []
    keys = sorted((set(left) | set(right)) - {"$ref"})
    left_props, right_props = left.get("properties", {}), right.get("properties", {})
    for key in keys:
        a, b = left.get(key), right.get(key)
        if key == "properties":
            continue
        if key == "required":
            for name in sorted(set(a or ()) ^ set(b or ())):
                if (name in left_props) != (name in right_props):
                    continue  # reported with the property itself
                now = name in (b or ())
                changes.append(Change(where, _child(at, name), "required", "changed", not now, now))
        elif key in NESTED_SUFFIX and isinstance(a, dict) and isinstance(b, dict):
            changes.extend(diff_schema(a, b, where, at + NESTED_SUFFIX[key]))
        elif a != b:
            changes.append(Change(where, at, key, _kind(a, b), a, b))
    for name in sorted(set(left_props) | set(right_props)):
        path = _child(at, name)
        if name not in right_props:
            described = _with_required(left_props[name], name, left)
            changes.append(Change(where, path, "property", "removed", described, None))
        elif name not in left_props:
            described = _with_required(right_props[name], name, right)
            changes.append(Change(where, path, "property", "added", None, described))
        else:
            changes.extend(diff_schema(left_props[name], right_props[name], where, path))
    return changes


def _with_required(prop: Facts, name: str, parent: Facts) -> Facts:
    return {**prop, "required": True} if name in parent.get("required", ()) else prop


def _diff_fields(left: Facts, right: Facts, where: str, skip: Iterable[str] = ()) -> list[Change]:
    changes = []
    for key in sorted((set(left) | set(right)) - set(skip)):
        a, b = left.get(key), right.get(key)
        if a != b:
            changes.append(Change(where, "", key, _kind(a, b), a, b))
    return changes


def _diff_content(left: Facts, right: Facts, where: str) -> list[Change]:
    changes: list[Change] = []
    for media in sorted(set(left) | set(right)):
        if media not in right:
            changes.append(Change(where, "", "media type", "removed", media, None))
        elif media not in left:
            changes.append(Change(where, "", "media type", "added", None, media))
        else:
            changes.extend(diff_schema(left[media], right[media], f"{where} {media}".strip()))
    return changes


def _diff_parameter(left: Facts, right: Facts, where: str) -> list[Change]:
    changes = _diff_fields(left, right, where, skip=("schema", "content"))
    changes.extend(diff_schema(left.get("schema", {}), right.get("schema", {}), where))
    changes.extend(_diff_content(left.get("content", {}), right.get("content", {}), where))
    return changes


def _diff_keyed(left: Facts, right: Facts, label: str, fact: str, inner: Any) -> list[Change]:
    changes: list[Change] = []
    for key in sorted(set(left) | set(right)):
        where = f"{label} {key}".strip()
        if key not in right:
            changes.append(Change(where, "", fact, "removed", left[key], None))
        elif key not in left:
            changes.append(Change(where, "", fact, "added", None, right[key]))
        else:
            changes.extend(inner(left[key], right[key], where))
    return changes


def _diff_response(left: Facts, right: Facts, where: str) -> list[Change]:
    changes = _diff_content(left["content"], right["content"], where)
    changes.extend(
        _diff_keyed(left["headers"], right["headers"], f"{where} header", "header", _diff_parameter)
    )
    return changes


def diff_operation(left: Facts, right: Facts) -> list[Change]:
    """Differences between the facts of the same operation in two descriptions."""
    changes = _diff_fields(left, right, "", skip=("parameters", "requestBody", "responses"))
    changes.extend(
        _diff_keyed(
            left["parameters"], right["parameters"], "parameter", "parameter", _diff_parameter
        )
    )
    lbody, rbody = left.get("requestBody"), right.get("requestBody")
    if lbody is None or rbody is None:
        if lbody != rbody:
            changes.append(
                Change("request body", "", "request body", _kind(lbody, rbody), lbody, rbody)
            )
    else:
        changes.extend(_diff_fields(lbody, rbody, "request body", skip=("content",)))
        changes.extend(_diff_content(lbody["content"], rbody["content"], "request body"))
    changes.extend(
        _diff_keyed(left["responses"], right["responses"], "response", "response", _diff_response)
    )
    return changes


def _missing_operation(mine: Operation, upstream_ops: Mapping[str, Operation]) -> Entry:
    place = f"{mine.method} {mine.path}"
    renamed = next(
        (
            op.key
            for op in upstream_ops.values()
            if (op.method, op.path) == (mine.method, mine.path)
        ),
        None,
    )
    change = Change("", "", "operation", "removed", place, renamed)
    return Entry(mine.key, "missing_upstream", (change,), mine.method, mine.path)


def diff(
    pinned: Mapping[str, Any],
    upstream: Mapping[str, Any],
    excluded: Iterable[str] = (),
    *,
    pinned_name: str = "pinned",
    upstream_name: str = "upstream",
) -> Report:
    """Compare the covered operations (those of ``pinned``) and the schemas they reach."""
    left_ops, right_ops = index(pinned), index(upstream)
    left_schemas, right_schemas = Schemas(pinned), Schemas(upstream)
    excluded = set(excluded)
    covered = sorted(left_ops)
    covered_tags = {tag for op in left_ops.values() for tag in op.tags}
    left_facts = {key: facts_of(pinned, left_ops[key]) for key in covered}
    right_facts = {key: facts_of(upstream, right_ops[key]) for key in covered if key in right_ops}

    operations: list[Entry] = []
    for key in covered:
        mine = left_ops[key]
        if key not in right_facts:
            operations.append(_missing_operation(mine, right_ops))
            continue
        changes = diff_operation(left_facts[key], right_facts[key])
        if changes:
            operations.append(Entry(key, "changed", tuple(changes), mine.method, mine.path))
    for key, theirs in sorted(right_ops.items()):
        tags = sorted(covered_tags.intersection(theirs.tags))
        if key in left_ops or key in excluded or not tags:
            continue
        change = Change("", "", "operation", "added", None, {"tags": tags})
        operations.append(Entry(key, "new_upstream", (change,), theirs.method, theirs.path))

    left_users = reached(left_facts, left_schemas)
    right_users = reached(right_facts, right_schemas)
    schemas: list[Entry] = []
    for name in sorted(set(left_users) | set(right_users)):
        users = tuple(sorted(left_users.get(name, set()) | right_users.get(name, set())))
        if name not in right_schemas:
            change = Change("", "", "schema", "removed", left_schemas[name], None)
            schemas.append(Entry(name, "missing_upstream", (change,), used_by=users))
        elif name not in left_schemas:
            change = Change("", "", "schema", "added", None, right_schemas[name])
            schemas.append(Entry(name, "new_upstream", (change,), used_by=users))
        else:
            changes = diff_schema(left_schemas[name], right_schemas[name])
            if (name in left_users) != (name in right_users):
                now = name in right_users
                changes.insert(0, Change("", "", "used", "changed", not now, now))
            if changes:
                schemas.append(Entry(name, "changed", tuple(changes), used_by=users))

    notes: list[Note] = []
    for key in sorted(excluded):
        if key in left_ops:
            message = f"{key} is covered and also listed as excluded; remove it from the list"
            notes.append(Note("excluded_but_covered", key, message))
        elif key not in right_ops:
            message = (
                f"{key} is listed as excluded but is not in the upstream description; "
                "remove it from the list if Neon dropped it"
            )
            notes.append(Note("excluded_missing_upstream", key, message))
    compared = (len(covered), len(set(left_users) | set(right_users)))
    return Report(
        pinned_name, upstream_name, tuple(operations), tuple(schemas), tuple(notes), compared
    )


# -- render ----------------------------------------------------------------------------------


def describe(facts: Any) -> str:
    """A short human description of a schema's facts."""
    if not isinstance(facts, dict):
        return json.dumps(facts)
    kind = str(facts.get("$ref") or facts.get("type", "any"))
    if kind == "array" and isinstance(facts.get("items"), dict):
        kind = f"array of {describe(facts['items'])}"
    elif "properties" in facts:
        kind = f"object {{{', '.join(sorted(facts['properties']))}}}"
    extras = [
        "required" if key == "required" and value is True else f"{key} {json.dumps(value)}"
        for key, value in sorted(facts.items())
        if key not in ("$ref", "type", "items", "properties")
    ]
    return ", ".join([kind, *extras])


def _fmt(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, sort_keys=True)


def _message(change: Change) -> str:
    place = " ".join(part for part in (change.where, change.at) if part)
    prefix = f"{place}: " if place else ""
    p, u = change.pinned, change.upstream
    added = change.change == "added"
    match change.fact:
        case "operation" if added:
            return (
                f"new upstream operation in covered tag(s) {', '.join(u['tags'])}: cover it in "
                "the pinned description or list it in the excluded operations file"
            )
        case "operation":
            return f"missing upstream; {p} is now {u}" if u else "missing upstream"
        case "schema" if not place:
            return f"new upstream: {describe(u)}" if added else "missing upstream"
        case "schema":
            return f"{prefix}schema {describe(p)} -> {describe(u)}"
        case "used":
            return (
                "used by the covered operations only upstream" if u else "no longer used upstream"
            )
        case "required":
            return f"{prefix}{'now required' if u else 'no longer required'}"
        case "property":
            return (
                f"{prefix}new property ({describe(u)})"
                if added
                else (f"{prefix}property missing upstream (was {describe(p)})")
            )
        case "media type":
            return (
                f"{prefix}media type {u if added else p} {'new' if added else 'missing'} upstream"
            )
        case "parameter" | "response" | "header" | "request body" if change.change != "changed":
            return f"{prefix}{'new' if added else 'missing'} upstream"
    if isinstance(p, list) and isinstance(u, list):
        gained = [item for item in u if item not in p]
        lost = [item for item in p if item not in u]
        parts = [f"added {_fmt(gained)}"] if gained else []
        parts += [f"removed {_fmt(lost)}"] if lost else []
        return f"{prefix}{change.fact}: {'; '.join(parts) or f'{_fmt(p)} -> {_fmt(u)}'}"
    return f"{prefix}{change.fact}: {_fmt(p)} -> {_fmt(u)}"


def render_text(report: Report) -> str:
    """The report as readable text, grouped per operation and per schema."""
    lines = [f"spec-diff: {report.pinned} -> {report.upstream}"]
    operations, schemas = report.counts
    if report.identical:
        lines.append(
            f"No difference in the facts of {operations} covered operations and {schemas} schemas."
        )
    else:
        lines.append(
            f"Differences: {len(report.operations)} operation(s), {len(report.schemas)} "
            f"schema(s) (of {operations} covered operations and {schemas} schemas)."
        )
    if report.operations:
        lines += ["", "Operations"]
        for entry in report.operations:
            lines.append(f"  {entry.name} ({entry.method} {entry.path})")
            lines += [f"    - {change.message}" for change in entry.changes]
    if report.schemas:
        lines += ["", "Schemas"]
        for entry in report.schemas:
            users = ", ".join(entry.used_by)
            if len(entry.used_by) == operations > 1:
                users = "all covered operations"
            lines.append(f"  {entry.name} (used by {users})")
            lines += [f"    - {change.message}" for change in entry.changes]
    if report.notes:
        lines += ["", "Notes"]
        lines += [f"  - {note.message}" for note in report.notes]
    return "\n".join(lines) + "\n"


def _entry_json(entry: Entry, operation: bool) -> dict[str, Any]:
    head: dict[str, Any] = (
        {"operation_id": entry.name, "method": entry.method, "path": entry.path}
        if operation
        else {"name": entry.name}
    )
    head["status"] = entry.status
    if not operation:
        head["used_by"] = list(entry.used_by)
    head["changes"] = [{**asdict(change), "message": change.message} for change in entry.changes]
    return head


def render_json(report: Report) -> str:
    """The report as the JSON object documented at the top of this module."""
    data = {
        "format": JSONFORMAT,
        "pinned": report.pinned,
        "upstream": report.upstream,
        "identical": report.identical,
        "operations": [_entry_json(entry, True) for entry in report.operations],
        "schemas": [_entry_json(entry, False) for entry in report.schemas],
        "notes": [asdict(note) for note in report.notes],
    }
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


# -- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return the exit status (0 identical, 1 different, 2 error)."""
    parser = argparse.ArgumentParser(
        prog="spec_diff.py",
        description="Compare the facts of the pinned OpenAPI description with an upstream one.",
    )
    parser.add_argument("pinned", help="the pinned description (openapi.yaml)")
    parser.add_argument("upstream", help="upstream description: a path or an http(s) URL")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--excluded",
        type=Path,
        default=DEFAULT_EXCLUDED,
        help="operationIds deliberately not covered (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        excluded = load_excluded(args.excluded)
        pinned = load(args.pinned)
        upstream = load(args.upstream)
        report = diff(
            pinned, upstream, excluded, pinned_name=args.pinned, upstream_name=args.upstream
        )
    except SpecError as exc:
        print(f"spec-diff: {exc}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        print(
            f"spec-diff: malformed OpenAPI document ({type(exc).__name__}: {exc})", file=sys.stderr
        )
        return 2
    sys.stdout.write(render_json(report) if args.json else render_text(report))
    return 0 if report.identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
