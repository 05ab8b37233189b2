"""The facts of operations: where each operation is, its parameters, request body and responses,
and which component schemas the covered operations reach."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .model import SpecError
from .refs import Document, as_document
from .schemas import Facts, Schemas, Scope, schema_facts

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Parameter, header and media-type keywords that are facts (besides the schema).
PARAMETER_FACTS = ("required", "deprecated", "style", "explode", "allowEmptyValue", "allowReserved")


@dataclass(frozen=True)
class Operation:
    """Where an operation is and how it is tagged; its facts are computed on demand."""

    key: str  # the operationId, or "METHOD /path" when it has none
    method: str
    path: str
    tags: tuple[str, ...]


def index(doc: Document | Mapping[str, Any]) -> dict[str, Operation]:
    """Every operation of a description, by operationId."""
    document = as_document(doc)
    operations: dict[str, Operation] = {}
    for path, raw in document.contents["paths"].items():
        item, _ = document.deref(raw, document.uri)
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


def facts_of(doc: Document, operation: Operation) -> Facts:
    """The facts of one indexed operation: method, path, tags, parameters, body, responses."""
    item, base = doc.deref(doc.contents["paths"][operation.path], doc.uri)
    method, path = operation.method.lower(), operation.path
    op = item[method]
    params: Facts = {}
    for raw in [*item.get("parameters", ()), *op.get("parameters", ())]:
        param, where = doc.deref(raw, base)
        if not isinstance(param, dict) or "name" not in param or "in" not in param:
            raise SpecError(f"{method.upper()} {path}: a parameter needs 'name' and 'in'")
        params[f"{param['in']} {param['name']}"] = _parameter_facts(param, Scope(doc, where))
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
        body, where = doc.deref(op["requestBody"], base)
        facts["requestBody"] = {
            "required": bool(body.get("required", False)),
            "content": _content_facts(body.get("content"), Scope(doc, where)),
        }
    for status, raw in (op.get("responses") or {}).items():
        response, where = doc.deref(raw, base)
        headers = {}
        for name, raw_header in (response.get("headers") or {}).items():
            header, header_base = doc.deref(raw_header, where)
            headers[str(name)] = _parameter_facts(header, Scope(doc, header_base))
        facts["responses"][str(status)] = {
            "content": _content_facts(response.get("content"), Scope(doc, where)),
            "headers": headers,
        }
    facts.update({k: v for k, v in op.items() if k.startswith("x-")})
    return facts


def _content_facts(content: Any, scope: Scope) -> Facts:
    return {
        str(media): schema_facts(body.get("schema", {}), scope)
        for media, body in (content or {}).items()
    }


def _parameter_facts(param: Mapping[str, Any], scope: Scope) -> Facts:
    facts: Facts = {}
    for key in PARAMETER_FACTS:
        value = param.get(key, False if key in ("required", "deprecated") else None)
        if value is not None:
            facts[key] = value
    if param.get("in") == "path":
        facts["required"] = True
    if "schema" in param:
        facts["schema"] = schema_facts(param["schema"], scope)
    if "content" in param:
        facts["content"] = _content_facts(param["content"], scope)
    facts.update({k: v for k, v in param.items() if k.startswith("x-")})
    return facts


def references(schema: Facts) -> Iterator[str]:
    """Names of the component schemas a flattened schema refers to directly."""
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
    """For each component schema the operations reach (transitively): which operations."""
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
