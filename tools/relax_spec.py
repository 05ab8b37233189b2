"""Derive the generator's input from ``openapi.yaml`` by relaxing what the live API breaks.

``openapi.yaml`` states Neon's published facts exactly; this script is the one place where
the project departs from them, and only for the generated client's sake. Each relaxation
below names the observed behaviour that makes it necessary. Usage::

    python tools/relax_spec.py openapi.yaml > relaxed.yaml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

# (schema, property, what to relax, why)
RELAXATIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "ApiKeyCreateResponse",
        "created_by",
        "required",
        "absent from create responses recorded in 2024",
    ),
    (
        "ApiKeyCreateResponse",
        "created_by",
        "format",
        "real user ids such as user_01h84... are not UUIDs",
    ),
    ("ApiKeyRevokeResponse", "created_at", "required", "absent from revoke responses"),
    ("ApiKeyRevokeResponse", "created_by", "required", "absent from revoke responses"),
    ("ApiKeyRevokeResponse", "created_by", "format", "real user ids are not always UUIDs"),
    (
        "ApiKeyRevokeResponse",
        "last_used_from_addr",
        "required",
        "tolerate its absence like created_by",
    ),
    ("ApiKeysListResponseItem", "last_used_from_addr", "required", "tolerate its absence"),
    ("ApiKeyCreatorData", "id", "format", "real user ids are not always UUIDs"),
    ("ApiKeyCreatorData", "name", "required", "may be empty or absent"),
    ("ApiKeyCreatorData", "image", "required", "may be empty or absent"),
    (
        "AuthDetailsResponse",
        "auth_method",
        "enum",
        "a credential kind Neon adds later must not break whoami",
    ),
    ("GeneralError", "code", "required", "error bodies from proxies and some handlers lack it"),
    ("GeneralError", "message", "required", "error bodies from proxies lack it"),
)


def relax(spec: dict[str, Any]) -> dict[str, Any]:
    """Return ``spec`` with every relaxation applied; fail loudly if one no longer applies."""
    schemas = spec["components"]["schemas"]
    for schema_name, prop, what, _why in RELAXATIONS:
        schema = schemas[schema_name]
        if prop not in schema["properties"]:
            raise SystemExit(f"relaxation {schema_name}.{prop} no longer applies: no such property")
        if what == "required":
            if prop not in schema.get("required", []):
                raise SystemExit(f"relaxation {schema_name}.{prop}: already optional")
            schema["required"] = [name for name in schema["required"] if name != prop]
        elif what in ("format", "enum"):
            if schema["properties"][prop].pop(what, None) is None:
                raise SystemExit(f"relaxation {schema_name}.{prop}: has no {what}")
        else:
            raise SystemExit(f"unknown relaxation {what!r}")
    return spec


def main(argv: list[str]) -> int:
    spec = yaml.safe_load(Path(argv[1]).read_text(encoding="utf-8"))
    # JSON is valid YAML and keeps the output free of YAML-emitter quirks.
    json.dump(relax(spec), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
