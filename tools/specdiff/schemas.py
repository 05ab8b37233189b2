"""The facts of a schema: documentation dropped, ``allOf`` flattened into one schema, order-free
lists sorted, and references to component schemas kept as ``{"$ref": name}``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag

from .model import SpecError
from .refs import Document

Facts = dict[str, Any]

# Documentation only: never a fact.
NOT_FACTS = frozenset(
    {"description", "summary", "title", "example", "examples", "externalDocs", "xml", "$comment"}
)
# Boolean keywords whose absence means false.
FALSE_BY_DEFAULT = frozenset({"nullable", "readOnly", "writeOnly", "deprecated", "uniqueItems"})
# Keywords holding one nested schema.
NESTED = ("items", "not", "additionalProperties")


@dataclass(frozen=True)
class Scope:
    """Where a schema is read: its description, the URI of the document holding it, and the
    schemas being inlined on the way there (to stop cycles)."""

    doc: Document
    base: str
    inlining: frozenset[str] = frozenset()

    def inside(self, base: str, key: str) -> Scope:
        """The scope of a schema inlined from ``base``, known by ``key`` while it is."""
        return Scope(self.doc, base, self.inlining | {key})


def canonical(value: Any) -> str:
    """A stable text of a JSON value, for sorting and deduplicating."""
    return json.dumps(value, sort_keys=True, default=str)


def normalise(key: str, value: Any) -> Any:
    """Order-free lists are sorted, so that reordering upstream is not a difference."""
    if key in ("enum", "required") or (
        key.startswith("x-")
        and isinstance(value, list)
        and all(not isinstance(item, dict | list) for item in value)
    ):
        return sorted({canonical(item): item for item in value}.values(), key=canonical)
    return value


def merge(left: Facts, right: Facts) -> Facts:
    """Combine two flattened ``allOf`` parts: properties merge, required and lists unite."""
    out = dict(left)
    for key, value in right.items():
        if key not in out:
            out[key] = value
        elif key == "properties":
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = merge(props[name], sub) if name in props else sub
            out[key] = props
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            previous = out[key]
            out[key] = merge(previous, value) if isinstance(previous, dict) else value
        elif key == "required" or (key.startswith("x-") and isinstance(value, list)):
            out[key] = normalise(key, [*out[key], *value])
        else:
            out[key] = value
    return out


def schema_facts(schema: Any, scope: Scope) -> Facts:
    """The facts of ``schema`` read in ``scope``."""
    if not isinstance(schema, dict):
        if isinstance(schema, bool):  # JSON Schema's true/false schemas (OpenAPI 3.1)
            return {} if schema else {"not": {}}
        raise SpecError(f"a schema must be a mapping, found {type(schema).__name__}")
    facts: Facts = _reference(schema["$ref"], scope) if "$ref" in schema else {}
    parts = schema.get("allOf", ())
    if not isinstance(parts, list | tuple):
        raise SpecError(f"allOf must be a list, found {type(parts).__name__}")
    if len(parts) == 1 and "$ref" not in schema and _is_plain_reference(parts[0], scope):
        facts = schema_facts(parts[0], scope)  # allOf: [$ref] only wraps a reference
    else:
        for part in parts:
            facts = merge(facts, _inline(part, scope))
    for key, value in schema.items():
        if key in NOT_FACTS or key in ("$ref", "allOf"):
            continue
        facts = _keyword(facts, key, value, scope)
    return facts


def _keyword(facts: Facts, key: str, value: Any, scope: Scope) -> Facts:
    """``facts`` with one more keyword of the schema read."""
    if key == "properties":
        props = {name: schema_facts(sub, scope) for name, sub in value.items()}
        return merge(facts, {"properties": props})
    if key in NESTED and (key != "additionalProperties" or isinstance(value, dict)):
        sub = schema_facts(value, scope)
        if key == "additionalProperties" and not sub:
            return facts  # {} allows anything, as an absent keyword does
        return merge(facts, {key: sub})
    if key in ("oneOf", "anyOf"):
        return {**facts, key: sorted((schema_facts(s, scope) for s in value), key=canonical)}
    if key == "discriminator" and isinstance(value, dict):
        mapping = {
            k: scope.doc.schema_name(v, scope.base) or v
            for k, v in value.get("mapping", {}).items()
        }
        return {**facts, key: {"propertyName": value.get("propertyName"), "mapping": mapping}}
    if key == "type" and isinstance(value, list):  # OpenAPI 3.1: ["string", "null"]
        out = dict(facts)
        kinds = sorted(t for t in value if t != "null")
        if "null" in value:
            out["nullable"] = True
        if kinds:
            out["type"] = kinds[0] if len(kinds) == 1 else kinds
        return out
    if (key in FALSE_BY_DEFAULT and value is False) or (
        key == "additionalProperties" and value is True
    ):
        return facts
    return merge(facts, {key: normalise(key, value)})


def _reference(ref: Any, scope: Scope) -> Facts:
    """The facts of a ``$ref``: a component schema's name, or the facts it points to."""
    name = scope.doc.schema_name(ref, scope.base)
    if name is not None:
        return {"$ref": name}
    target = scope.doc.target(ref, scope.base)
    if target in scope.inlining:
        # A schema reached again through itself, outside the component schemas: say where
        # (within its document, so that two copies of one description compare equal).
        return {"$recursion": urldefrag(target).fragment}
    node, base = scope.doc.lookup(ref, scope.base)
    return schema_facts(node, scope.inside(base, target))


def _is_plain_reference(part: Any, scope: Scope) -> bool:
    """Whether an ``allOf`` member is a bare reference to a component schema."""
    return (
        isinstance(part, dict)
        and isinstance(part.get("$ref"), str)
        and scope.doc.schema_name(part["$ref"], scope.base) is not None
        and set(part) <= {"$ref"} | NOT_FACTS
    )


def _inline(part: Any, scope: Scope) -> Facts:
    """An ``allOf`` member, with a reference to a component schema inlined."""
    if isinstance(part, dict) and "$ref" in part:
        name = scope.doc.schema_name(part["$ref"], scope.base)
        if name is not None:
            key = scope.doc.schema_uri(name)
            if key in scope.inlining:
                return {"$ref": name}  # a schema built on itself: keep the reference
            rest = {k: v for k, v in part.items() if k != "$ref"}
            named = schema_facts(scope.doc.schemas[name], scope.inside(scope.doc.uri, key))
            return merge(named, schema_facts(rest, scope))
    return schema_facts(part, scope)


class Schemas:
    """The component schemas of one description, flattened when first asked for."""

    def __init__(self, doc: Document) -> None:
        self._doc = doc
        self._facts: dict[str, Facts] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._doc.schemas

    def __getitem__(self, name: str) -> Facts:
        if name not in self._facts:
            scope = Scope(self._doc, self._doc.uri, frozenset({self._doc.schema_uri(name)}))
            self._facts[name] = schema_facts(self._doc.schemas[name], scope)
        return self._facts[name]
