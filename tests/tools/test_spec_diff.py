"""tools/spec_diff.py and the specdiff package: the pinned description against an upstream one."""

from __future__ import annotations

import copy
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import specdiff
import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCRIPT = Path(specdiff.__file__).resolve().parent.parent / "spec_diff.py"


def fixture(name: str) -> dict[str, Any]:
    """A parsed fixture document (a fresh copy each time)."""
    return specdiff.load(str(FIXTURES / name))


# The operation that the upstream fixtures add in a covered tag and the tests leave out.
EXCLUDED = ("getOrganization",)


def compare(upstream: dict[str, Any], excluded: tuple[str, ...] = EXCLUDED) -> specdiff.Report:
    """The report of the pinned fixture against ``upstream``."""
    return specdiff.diff(fixture("pinned.yaml"), upstream, excluded)


def schema_changes(report: specdiff.Report, name: str) -> list[specdiff.Change]:
    """The changes reported for one named schema."""
    return [c for entry in report.schemas if entry.name == name for c in entry.changes]


def operation_changes(report: specdiff.Report, key: str) -> list[specdiff.Change]:
    """The changes reported for one operation."""
    return [c for entry in report.operations if entry.name == key for c in entry.changes]


@pytest.fixture
def same() -> dict[str, Any]:
    """The upstream fixture that states the pinned facts in other words and structure."""
    return fixture("upstream_same.json")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run specdiff.main and return its exit status, stdout and stderr."""
    status = specdiff.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


# -- no difference ---------------------------------------------------------------------------


def test_same_facts_in_other_words_and_structure_are_identical(same: dict[str, Any]) -> None:
    """Other wording, examples, component references, list order and a flat allOf change no fact."""
    report = compare(same)
    assert report.operations == ()
    assert report.schemas == ()
    assert report.identical
    assert report.counts == (5, 8)


def test_description_only_change_is_not_a_difference(same: dict[str, Any]) -> None:
    """Changing only descriptions, summaries, titles and examples reports nothing."""
    op = same["paths"]["/api_keys"]["post"]
    op["summary"] = "Mint a key"
    op["description"] = "Entirely new prose."
    props = same["components"]["schemas"]["ApiKeyCreateResponse"]["properties"]
    props["key"]["description"] = "The secret token, shown once."
    props["key"]["example"] = "napi_example"
    same["components"]["schemas"]["ApiKeyCreatorData"]["title"] = "Creator"
    assert compare(same).identical


def test_the_pinned_fixture_is_identical_to_itself() -> None:
    """A description compared with itself has no difference and no excluded-file noise."""
    report = compare(fixture("pinned.yaml"), excluded=())
    assert report.identical
    assert report.notes == ()


def test_openapi_31_null_type_equals_nullable(same: dict[str, Any]) -> None:
    """``type: [string, "null"]`` (OpenAPI 3.1) states the same fact as ``nullable: true``."""
    prop = same["components"]["schemas"]["ApiKeysListResponseItem"]["properties"]["last_used_at"]
    del prop["nullable"]
    prop["type"] = ["string", "null"]
    assert compare(same).identical


# -- kinds of change -------------------------------------------------------------------------


def test_x_sensitive_list_added_to_a_response_schema(same: dict[str, Any]) -> None:
    """An ``x-sensitive`` list appearing on a response schema is reported under that schema."""
    same["components"]["schemas"]["ApiKeyCreateResponse"]["x-sensitive"] = ["name", "key"]
    report = compare(same)
    assert schema_changes(report, "ApiKeyCreateResponse") == [
        specdiff.Change("", "", "x-sensitive", "added", None, ["key", "name"])
    ]
    assert report.operations == ()
    assert [e.used_by for e in report.schemas] == [("createApiKey",)]


def test_x_sensitive_entry_added_to_an_existing_list() -> None:
    """One more name in an existing ``x-sensitive`` list is shown as that name added."""
    pinned = fixture("pinned.yaml")
    pinned["components"]["schemas"]["ApiKeyCreateResponse"]["x-sensitive"] = ["key"]
    upstream = copy.deepcopy(pinned)
    upstream["components"]["schemas"]["ApiKeyCreateResponse"]["x-sensitive"] = ["key", "name"]
    (entry,) = specdiff.diff(pinned, upstream).schemas
    assert [c.message for c in entry.changes] == ['x-sensitive: added ["name"]']


def test_property_becoming_required(same: dict[str, Any]) -> None:
    """A property that upstream makes required is reported as now required."""
    same["components"]["schemas"]["ApiKeysListResponseItem"]["required"].append(
        "last_used_from_addr"
    )
    report = compare(same)
    (change,) = schema_changes(report, "ApiKeysListResponseItem")
    assert (change.at, change.fact, change.pinned, change.upstream) == (
        "last_used_from_addr",
        "required",
        False,
        True,
    )
    assert change.message == "last_used_from_addr: now required"


def test_covered_operation_missing_upstream(same: dict[str, Any]) -> None:
    """A covered operation absent upstream is a difference, and so is its schema falling out."""
    del same["paths"]["/auth"]
    report = compare(same)
    (entry,) = report.operations
    assert (entry.name, entry.status, entry.method, entry.path) == (
        "getAuthDetails",
        "missing_upstream",
        "GET",
        "/auth",
    )
    assert [c.message for c in schema_changes(report, "AuthDetailsResponse")] == [
        "no longer used upstream"
    ]


def test_renamed_operation_is_pointed_out(same: dict[str, Any]) -> None:
    """When the method and path survive under another operationId, the report names it."""
    same["paths"]["/auth"]["get"]["operationId"] = "getAuth"
    report = compare(same)
    (change,) = operation_changes(report, "getAuthDetails")
    assert change.message == "missing upstream; GET /auth is now getAuth"
    assert [(e.name, e.status) for e in report.operations] == [
        ("getAuthDetails", "missing_upstream"),
        ("getAuth", "new_upstream"),
    ]


def test_new_operation_in_a_covered_tag(same: dict[str, Any]) -> None:
    """An upstream operation in a covered tag, neither covered nor excluded, is a difference."""
    same["paths"]["/api_keys/{key_id}"]["patch"] = {
        "operationId": "updateApiKey",
        "tags": ["API Key"],
        "responses": {"200": {"description": "Renamed"}},
    }
    report = compare(same)
    (entry,) = report.operations
    assert (entry.name, entry.status, entry.method) == ("updateApiKey", "new_upstream", "PATCH")
    assert "covered tag(s) API Key" in entry.changes[0].message


def test_excluded_and_uncovered_tag_operations_are_not_differences(same: dict[str, Any]) -> None:
    """Excluded operations and operations in other tags are not reported; others are."""
    assert compare(same).identical
    (entry,) = compare(same, excluded=()).operations
    assert (entry.name, entry.status) == ("getOrganization", "new_upstream")


def test_excluded_operation_gone_upstream_is_only_a_note(same: dict[str, Any]) -> None:
    """An excluded operation missing upstream is a note and leaves the facts identical."""
    report = compare(same, excluded=("getOrganization", "listOldThings", "getAuthDetails"))
    assert report.identical
    assert [(n.kind, n.operation_id) for n in report.notes] == [
        ("excluded_but_covered", "getAuthDetails"),
        ("excluded_missing_upstream", "listOldThings"),
    ]


def test_type_format_and_pattern_changes(same: dict[str, Any]) -> None:
    """Type, format and pattern changes are reported in parameters and in schemas."""
    same["components"]["parameters"]["KeyId"]["schema"] = {"type": "string"}
    same["components"]["parameters"]["OrgId"]["schema"]["pattern"] = "^org-[a-z0-9-]{1,60}$"
    same["components"]["schemas"]["ApiKeyCreatorData"]["properties"]["id"]["format"] = "user-id"
    report = compare(same)
    assert [c.message for c in operation_changes(report, "revokeApiKey")] == [
        'parameter path key_id: format: "int64" -> (none)',
        'parameter path key_id: type: "integer" -> "string"',
    ]
    messages = [c.message for c in operation_changes(report, "revokeOrgApiKey")]
    assert 'parameter path org_id: pattern: "^[a-z0-9-]{1,60}$" -> "^org-[a-z0-9-]{1,60}$"' in (
        messages
    )
    assert [c.message for c in schema_changes(report, "ApiKeyCreatorData")] == [
        'id: format: "uuid" -> "user-id"'
    ]


def test_limits_nullable_and_enum_changes(same: dict[str, Any]) -> None:
    """maxLength, nullable and enum values are facts."""
    schemas = same["components"]["schemas"]
    schemas["ApiKeyCreateRequest"]["properties"]["key_name"]["maxLength"] = 128
    schemas["ApiKeysListResponseItem"]["properties"]["last_used_at"]["nullable"] = False
    schemas["AuthDetailsResponse"]["properties"]["auth_method"]["enum"].append("api_key_project")
    report = compare(same)
    assert [c.message for c in schema_changes(report, "ApiKeyCreateRequest")] == [
        "key_name: maxLength: 64 -> 128"
    ]
    assert [c.message for c in schema_changes(report, "ApiKeysListResponseItem")] == [
        "last_used_at: nullable: true -> (none)"
    ]
    assert [c.message for c in schema_changes(report, "AuthDetailsResponse")] == [
        'auth_method: enum: added ["api_key_project"]'
    ]


def test_properties_added_and_removed(same: dict[str, Any]) -> None:
    """A property only upstream, or only pinned, is reported with its facts."""
    props = same["components"]["schemas"]["ApiKeyRevokeResponse"]["properties"]
    props["revoked_at"] = {"type": "string", "format": "date-time"}
    del props["revoked"]
    same["components"]["schemas"]["ApiKeyRevokeResponse"]["required"] = ["id"]
    report = compare(same)
    assert [c.message for c in schema_changes(report, "ApiKeyRevokeResponse")] == [
        "revoked: property missing upstream (was boolean, required)",
        'revoked_at: new property (string, format "date-time")',
    ]


def test_request_body_parameters_and_responses(same: dict[str, Any]) -> None:
    """Request body requiredness, new parameters and new statuses are operation differences."""
    same["components"]["requestBodies"]["CreateKey"]["required"] = False
    op = same["paths"]["/api_keys"]["get"]
    op["parameters"] = [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]
    op["responses"]["429"] = {"description": "Slow down"}
    report = compare(same)
    assert [c.message for c in operation_changes(report, "createApiKey")] == [
        "request body: no longer required"
    ]
    assert [c.message for c in operation_changes(report, "listApiKeys")] == [
        "parameter query limit: new upstream",
        "response 429: new upstream",
    ]


# -- $ref and allOf --------------------------------------------------------------------------


def test_allof_is_flattened_and_a_base_change_reaches_the_derived_schema() -> None:
    """A change in an allOf base shows under the base and under every schema built on it."""
    upstream = fixture("pinned.yaml")  # OrgApiKeyRevokeResponse is allOf[ApiKeyRevokeResponse]
    base = upstream["components"]["schemas"]["ApiKeyRevokeResponse"]
    base["properties"]["id"]["format"] = "int32"
    report = compare(upstream)
    assert [e.name for e in report.schemas] == ["ApiKeyRevokeResponse", "OrgApiKeyRevokeResponse"]
    assert [c.message for c in schema_changes(report, "OrgApiKeyRevokeResponse")] == [
        'id: format: "int64" -> "int32"'
    ]


def test_allof_wrapping_a_single_reference_is_that_reference(same: dict[str, Any]) -> None:
    """``allOf: [$ref]`` (used to describe a reference) states the same facts as the ``$ref``."""
    props = same["components"]["schemas"]["ApiKeysListResponseItem"]["properties"]
    props["created_by"] = {
        "allOf": [{"$ref": "#/components/schemas/ApiKeyCreatorData"}],
        "description": "Who created the key",
    }
    assert compare(same).identical


def test_schema_built_on_itself_terminates(same: dict[str, Any]) -> None:
    """An allOf that comes back to the schema being flattened keeps a reference, not a loop."""
    pinned = fixture("pinned.yaml")
    for doc in (same, pinned):
        doc["components"]["schemas"]["ApiKeyCreatorData"]["properties"]["manager"] = {
            "allOf": [
                {"$ref": "#/components/schemas/ApiKeyCreatorData"},
                {"type": "object", "nullable": True},
            ]
        }
    assert specdiff.diff(pinned, same, EXCLUDED).identical


def test_named_references_are_compared_once_under_their_own_name(same: dict[str, Any]) -> None:
    """A nested named schema's change is reported under its name, with the operations using it."""
    same["components"]["schemas"]["ApiKeyCreatorData"]["required"] = ["id", "name"]
    report = compare(same)
    (entry,) = report.schemas
    assert (entry.name, entry.used_by) == ("ApiKeyCreatorData", ("listApiKeys",))
    assert [c.message for c in entry.changes] == ["name: now required"]


def test_reference_replaced_by_another_schema(same: dict[str, Any]) -> None:
    """A property that refers to a different schema (or to none) is one clear change."""
    item = same["components"]["schemas"]["ApiKeysListResponseItem"]
    item["properties"]["created_by"] = {"type": "string", "format": "uuid"}
    report = compare(same)
    assert [c.message for c in schema_changes(report, "ApiKeysListResponseItem")] == [
        'created_by: schema ApiKeyCreatorData -> string, format "uuid"'
    ]
    assert [c.message for c in schema_changes(report, "ApiKeyCreatorData")] == [
        "no longer used upstream"
    ]


def test_nested_inline_objects_and_arrays_are_recursed() -> None:
    """Changes deep in inline objects and array items name their path."""
    pinned = fixture("pinned.yaml")
    nested = {
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "items": {"type": "object", "properties": {"label": {"type": "string"}}},
            }
        },
    }
    pinned["components"]["schemas"]["GeneralError"]["properties"]["details"] = nested
    upstream = copy.deepcopy(pinned)
    details = upstream["components"]["schemas"]["GeneralError"]["properties"]["details"]
    details["properties"]["tags"]["items"]["properties"]["label"]["maxLength"] = 40
    (entry,) = specdiff.diff(pinned, upstream).schemas
    assert [c.message for c in entry.changes] == ["details.tags[].label: maxLength: (none) -> 40"]
    media = pinned["paths"]["/auth"]["get"]["responses"]["200"]["content"]["application/json"]
    media["schema"] = {"type": "array", "items": {"type": "integer"}}
    upstream = copy.deepcopy(pinned)
    media = upstream["paths"]["/auth"]["get"]["responses"]["200"]["content"]["application/json"]
    media["schema"]["items"]["format"] = "int64"
    report = specdiff.diff(pinned, upstream)
    assert [c.message for c in operation_changes(report, "getAuthDetails")] == [
        'response 200 application/json []: format: (none) -> "int64"'
    ]


def test_recursive_schemas_terminate(same: dict[str, Any]) -> None:
    """A schema that refers to itself is compared without looping."""
    pinned = fixture("pinned.yaml")
    for doc in (same, pinned):
        creator = doc["components"]["schemas"]["ApiKeyCreatorData"]
        creator["properties"]["invited_by"] = {"$ref": "#/components/schemas/ApiKeyCreatorData"}
    assert specdiff.diff(pinned, same, EXCLUDED).identical
    invited_by = same["components"]["schemas"]["ApiKeyCreatorData"]["properties"]["invited_by"]
    invited_by["nullable"] = True
    report = specdiff.diff(pinned, same, EXCLUDED)
    assert [c.message for c in schema_changes(report, "ApiKeyCreatorData")] == [
        "invited_by: nullable: (none) -> true"
    ]


# -- the fixture files, the command line and the JSON ----------------------------------------


def test_fixture_report_text(capsys: pytest.CaptureFixture[str]) -> None:
    """The readable report of the changed fixture groups changes per operation and schema."""
    status, out, err = run(
        capsys,
        str(FIXTURES / "pinned.yaml"),
        str(FIXTURES / "upstream_changed.yaml"),
        "--excluded",
        str(FIXTURES / "excluded.txt"),
    )
    assert (status, err) == (1, "")
    expected = (FIXTURES / "upstream_changed.txt").read_text(encoding="utf-8")
    assert out.replace(str(FIXTURES) + "/", "") == expected


def test_schema_used_everywhere_is_summarised_in_text(same: dict[str, Any]) -> None:
    """A schema every covered operation uses says so instead of listing them all."""
    same["components"]["schemas"]["GeneralError"]["properties"]["code"]["default"] = ""
    report = compare(same)
    assert report.schemas[0].used_by == tuple(sorted(specdiff.index(fixture("pinned.yaml"))))
    assert "  GeneralError (used by all covered operations)\n" in specdiff.render_text(report)
    assert '    - code: default: (none) -> ""\n' in specdiff.render_text(report)


def test_json_report_structure(capsys: pytest.CaptureFixture[str]) -> None:
    """``--json`` prints the documented object with stable keys."""
    status, out, _ = run(
        capsys,
        str(FIXTURES / "pinned.yaml"),
        str(FIXTURES / "upstream_changed.yaml"),
        "--excluded",
        str(FIXTURES / "excluded.txt"),
        "--json",
    )
    data = json.loads(out)
    assert status == 1
    assert list(data) == [
        "format",
        "pinned",
        "upstream",
        "identical",
        "operations",
        "schemas",
        "notes",
        "extract",
    ]
    assert (data["format"], data["identical"]) == (1, False)
    assert [(o["operation_id"], o["status"]) for o in data["operations"]] == [
        ("revokeApiKey", "missing_upstream"),
        ("revokeOrgApiKey", "changed"),
        ("updateApiKey", "new_upstream"),
    ]
    assert list(data["operations"][0]) == [
        "operation_id",
        "method",
        "path",
        "status",
        "changes",
    ]
    sensitive = next(s for s in data["schemas"] if s["name"] == "ApiKeyCreateResponse")
    assert list(sensitive) == ["name", "status", "used_by", "changes"]
    assert sensitive["changes"] == [
        {
            "where": "",
            "at": "",
            "fact": "x-sensitive",
            "change": "added",
            "pinned": None,
            "upstream": ["key", "name"],
            "message": 'x-sensitive: (none) -> ["key", "name"]',
        }
    ]
    note = data["notes"][0]
    assert list(note) == ["kind", "operation_id", "message"]
    assert (note["kind"], note["operation_id"]) == ("excluded_missing_upstream", "getOrganization")


def test_identical_json_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Identical facts exit 0 and say so in JSON too."""
    excluded = tmp_path / "excluded.txt"
    excluded.write_text("getOrganization\n", encoding="utf-8")
    args = [str(FIXTURES / "pinned.yaml"), str(FIXTURES / "upstream_same.json")]
    status, out, _ = run(capsys, *args, "--excluded", str(excluded), "--json")
    assert (status, json.loads(out)["identical"]) == (0, True)
    assert json.loads(out)["operations"] == json.loads(out)["schemas"] == []


@pytest.mark.parametrize(
    ("content", "upstream", "message"),
    [
        (None, "missing.yaml", "cannot read"),
        (None, "ftp://example.com/openapi.json", "only http and https URLs"),
        ("{not json", "broken.json", "not valid JSON"),
        ("a: [b\n", "broken.yaml", "not valid YAML or JSON"),
        ('{"swagger": "2.0", "paths": {}}', "swagger.json", "not an OpenAPI 3 document"),
        ("- just\n- a list\n", "list.yaml", "not an OpenAPI 3 document"),
        ("openapi: 3.0.3\ninfo: {}\n", "nopaths.yaml", "no 'paths' mapping"),
        (
            "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      operationId: getAuthDetails\n"
            "      responses:\n        '200':\n          $ref: '#/components/responses/Nope'\n",
            "dangling.yaml",
            "unresolvable $ref",
        ),
    ],
)
def test_errors_exit_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    upstream: str,
    message: str,
) -> None:
    """Unreadable files, bad URLs and non-OpenAPI documents exit 2 with one line on stderr."""
    target = upstream if "://" in upstream else str(tmp_path / upstream)
    if content is not None:
        Path(target).write_text(content, encoding="utf-8")
    status, out, err = run(capsys, str(FIXTURES / "pinned.yaml"), target)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("spec-diff: ")
    assert message in err


def test_script_runs_as_a_program_without_traceback(tmp_path: Path) -> None:
    """Run as a script, an error is one line and status 2, a difference is status 1."""
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), str(FIXTURES / "pinned.yaml"), str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert (bad.returncode, bad.stdout) == (2, "")
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0
    changed = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(FIXTURES / "pinned.yaml"),
            str(FIXTURES / "upstream_changed.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert changed.returncode == 1
    assert "updateApiKey (PATCH /api_keys/{key_id})" in changed.stdout


@pytest.fixture
def served() -> Iterator[str]:
    """The fixtures folder served over HTTP on the loopback interface."""
    handler = partial(_QuietHandler, directory=str(FIXTURES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_upstream_can_be_a_url(served: str) -> None:
    """An http URL reads like the file it serves; a 404 is a SpecError naming the status."""
    assert specdiff.load(f"{served}/upstream_same.json") == fixture("upstream_same.json")
    with pytest.raises(specdiff.SpecError, match="HTTP 404"):
        specdiff.load(f"{served}/nothing.json")


def test_yaml_and_json_parse_to_the_same_document() -> None:
    """A description reads the same from YAML and from JSON."""
    doc = fixture("pinned.yaml")
    assert specdiff.parse(json.dumps(doc)) == specdiff.parse(yaml.safe_dump(doc)) == doc


def test_checked_in_excluded_list_is_well_formed() -> None:
    """The project's excluded list names distinct operationIds and no covered operation."""
    names = specdiff.load_excluded(specdiff.DEFAULT_EXCLUDED)
    covered = specdiff.index(specdiff.load(str(SCRIPT.parent.parent / "openapi.yaml")))
    assert names
    assert len(names) == len(set(names))
    assert all(name.isidentifier() for name in names)
    assert not set(names) & set(covered)


# -- an extract of a description -------------------------------------------------------------


def extract_of(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` cut down to the operations of the pinned fixture, as Neon's extract is."""
    covered = specdiff.index(fixture("pinned.yaml"))
    out = copy.deepcopy(doc)
    for path, item in list(out["paths"].items()):
        for method in [m for m in item if m in specdiff.operations.METHODS]:
            if item[method].get("operationId") not in covered:
                del item[method]
        if not any(m in item for m in specdiff.operations.METHODS):
            del out["paths"][path]
    return out


def test_an_extract_is_said_once_and_is_not_a_difference(same: dict[str, Any]) -> None:
    """An upstream holding only covered operations gives one extract note, not one per exclusion."""
    report = compare(extract_of(same), excluded=("getOrganization", "listOldThings"))
    assert report.identical and report.extract
    (note,) = report.notes
    assert (note.kind, note.operation_id) == ("upstream_is_extract", None)
    assert "extract" in note.message and "2 excluded operations" in note.message
    assert "the upstream description is an extract" in specdiff.render_text(report)


def test_a_full_description_is_not_an_extract(same: dict[str, Any]) -> None:
    """With an operation besides the covered ones upstream, excluded ones gone are each noted."""
    report = compare(same, excluded=("getOrganization", "listOldThings"))
    assert not report.extract
    assert [(n.kind, n.operation_id) for n in report.notes] == [
        ("excluded_missing_upstream", "listOldThings")
    ]


def test_an_extract_still_reports_changed_and_missing_operations(same: dict[str, Any]) -> None:
    """Being an extract excuses absent excluded operations only, never a covered one or a fact."""
    cut = extract_of(same)
    del cut["paths"]["/auth"]
    cut["components"]["schemas"]["ApiKeyCreateRequest"]["properties"]["key_name"]["maxLength"] = 9
    report = compare(cut)
    assert report.extract and not report.identical
    assert [(e.name, e.status) for e in report.operations] == [
        ("getAuthDetails", "missing_upstream")
    ]
    assert [c.message for c in schema_changes(report, "ApiKeyCreateRequest")] == [
        "key_name: maxLength: 64 -> 9"
    ]


def test_extract_exits_0_with_its_note_in_text_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From the command line an identical extract exits 0, says so, and sets "extract" in JSON."""
    upstream = tmp_path / "extract.json"
    upstream.write_text(json.dumps(extract_of(fixture("upstream_same.json"))), encoding="utf-8")
    args = [str(FIXTURES / "pinned.yaml"), str(upstream), "--excluded"]
    status, out, err = run(capsys, *args, str(FIXTURES / "excluded.txt"))
    assert (status, err) == (0, "")
    assert "No difference in the facts of 5 covered operations" in out
    assert "is an extract" in out
    assert "listed as excluded but is not in the upstream" not in out
    status, out, _ = run(capsys, *args, str(FIXTURES / "excluded.txt"), "--json")
    data = json.loads(out)
    assert (status, data["identical"], data["extract"]) == (0, True, True)
    assert [(n["kind"], n["operation_id"]) for n in data["notes"]] == [
        ("upstream_is_extract", None)
    ]


# -- references resolved by `referencing` ----------------------------------------------------


def write_yaml(path: Path, doc: Any) -> Path:
    """Write ``doc`` as YAML at ``path``."""
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_description_split_over_files_states_the_same_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """References to other files (relative to the description, nested ones too) are followed."""
    split = fixture("pinned.yaml")
    schemas = split["components"]["schemas"]
    common = {
        "Creator": schemas["ApiKeyCreatorData"],
        "Error": {"$ref": "errors/error.yaml#/Error"},
        "Response": split["components"]["responses"]["GeneralError"],
    }
    (tmp_path / "errors").mkdir()
    write_yaml(tmp_path / "errors" / "error.yaml", {"Error": schemas["GeneralError"]})
    # Back into the description itself: still a reference to the component schema.
    back = {"$ref": "split.yaml#/components/schemas/GeneralError"}
    common["Response"]["content"]["application/json"]["schema"] = back
    schemas["ApiKeyCreatorData"] = {"$ref": "common.yaml#/Creator"}
    schemas["GeneralError"] = {"$ref": "./common.yaml#/Error"}
    split["components"]["responses"]["GeneralError"] = {"$ref": "common.yaml#/Response"}
    write_yaml(tmp_path / "common.yaml", common)
    write_yaml(tmp_path / "split.yaml", split)
    args = (str(FIXTURES / "pinned.yaml"), str(tmp_path / "split.yaml"), "--excluded")
    status, out, err = run(capsys, *args, str(FIXTURES / "excluded.txt"))
    assert (status, err) == (0, ""), out
    status, out, err = run(
        capsys, *reversed(args[:2]), "--excluded", str(FIXTURES / "excluded.txt")
    )
    assert (status, err) == (0, ""), out


def test_a_referenced_file_that_cannot_be_read_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reference to a missing file exits 2 naming the reference and the file."""
    broken = fixture("pinned.yaml")
    broken["components"]["schemas"]["GeneralError"] = {"$ref": "gone.yaml#/Error"}
    write_yaml(tmp_path / "broken.yaml", broken)
    status, out, err = run(capsys, str(FIXTURES / "pinned.yaml"), str(tmp_path / "broken.yaml"))
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert "unresolvable $ref 'gone.yaml#/Error'" in err
    assert "gone.yaml: cannot read" in err


def test_a_description_given_as_data_refers_only_inside_itself(same: dict[str, Any]) -> None:
    """Without a location, a reference to another file is an error, not a guess."""
    same["components"]["schemas"]["GeneralError"] = {"$ref": "other.yaml#/Error"}
    with pytest.raises(specdiff.SpecError, match=r"unresolvable \$ref 'other.yaml#/Error'"):
        compare(same)


def test_pointer_escapes_and_references_into_paths(same: dict[str, Any]) -> None:
    """A JSON pointer with ``~1`` (a ``/`` in a path) resolves like any other reference."""
    revoke = same["paths"]["/api_keys/{key_id}"]["delete"]
    revoke["responses"]["default"] = {"$ref": "#/paths/~1auth/get/responses/default"}
    assert compare(same).identical
    revoke["responses"]["default"] = {"$ref": "#/paths/~1auth/get/responses/nothing"}
    with pytest.raises(specdiff.SpecError, match="unresolvable"):
        compare(same)


def test_circular_references_of_responses_are_an_error(same: dict[str, Any]) -> None:
    """Responses that refer to each other in a ring are a clear error, not a hang."""
    responses = same.setdefault("components", {}).setdefault("responses", {})
    responses["A"] = {"$ref": "#/components/responses/B"}
    responses["B"] = {"$ref": "#/components/responses/A"}
    same["paths"]["/auth"]["get"]["responses"]["500"] = {"$ref": "#/components/responses/A"}
    with pytest.raises(specdiff.SpecError, match="circular"):
        compare(same)


def test_a_schema_reached_through_itself_outside_components_terminates() -> None:
    """A pointer cycle that never names a component schema is compared without looping."""
    pinned = fixture("pinned.yaml")
    media = pinned["paths"]["/auth"]["get"]["responses"]["200"]["content"]["application/json"]
    media["schema"] = {
        "type": "object",
        "properties": {
            "child": {"$ref": "#/paths/~1auth/get/responses/200/content/application~1json/schema"}
        },
    }
    upstream = copy.deepcopy(pinned)
    assert specdiff.diff(pinned, upstream).identical
    media = upstream["paths"]["/auth"]["get"]["responses"]["200"]["content"]["application/json"]
    media["schema"]["properties"]["child"] = {"type": "string"}
    changes = operation_changes(specdiff.diff(pinned, upstream), "getAuthDetails")
    assert changes[0].message == 'response 200 application/json child: type: "object" -> "string"'


def test_the_package_runs_as_a_module(tmp_path: Path) -> None:
    """``python -m specdiff`` is the same command line as the script."""
    result = subprocess.run(
        [sys.executable, "-m", "specdiff", str(FIXTURES / "pinned.yaml"), str(tmp_path / "x")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(SCRIPT.parent)},
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("spec-diff: ")


# -- the pinned description ------------------------------------------------------------------


def test_openapi_yaml_states_the_facts_of_neons_newest_description() -> None:
    """openapi.yaml has exactly the facts of Neon's 2026 extract (its prose removed here)."""
    root = SCRIPT.parent.parent
    pinned = specdiff.open_document(str(root / "openapi.yaml"))
    upstream = specdiff.open_document(str(FIXTURES / "neon_2026_facts.json"))
    report = specdiff.diff(pinned, upstream, specdiff.load_excluded(specdiff.DEFAULT_EXCLUDED))
    assert report.identical, specdiff.render_text(report)
    assert report.extract
    assert [note.kind for note in report.notes] == ["upstream_is_extract"]
    organization = pinned.schemas["Organization"]
    assert organization["properties"]["require_mfa"]["type"] == "boolean"
    assert "require_mfa" not in organization["required"]


def test_spec_facts_drops_prose_and_keeps_every_fact(tmp_path: Path, same: dict[str, Any]) -> None:
    """tools/spec_facts.py prints the same facts with no description, summary or example left."""
    props = same["components"]["schemas"]["ApiKeyCreatorData"]["properties"]
    props["description"] = {"type": "string", "description": "A property of that name."}
    source = write_yaml(tmp_path / "upstream.yaml", same)
    result = subprocess.run(
        [sys.executable, str(SCRIPT.with_name("spec_facts.py")), str(source)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=60,
    )
    facts = json.loads(result.stdout)
    text = json.dumps(facts)
    assert '"summary"' not in text and '"example"' not in text
    assert "A property of that name." not in text
    assert facts["components"]["schemas"]["ApiKeyCreatorData"]["properties"]["description"] == {
        "type": "string"
    }
    assert facts["info"]["title"].endswith("(facts only)")
    assert specdiff.diff(same, facts, EXCLUDED).identical


def test_spec_facts_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    """tools/spec_facts.py on an unreadable source exits 2 with one line and prints nothing."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT.with_name("spec_facts.py")), str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("spec-facts: ") and result.stderr.count("\n") == 1
