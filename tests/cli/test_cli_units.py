"""The CLI's pure pieces: table rendering, dotenv editing, audit rules, atomic writes."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from cli_support import KEY_FIELDS
from neon_keys import Creator, OrgKey, PersonalKey, ProjectKey
from neon_keys.cli import _audit, _output, _sinks

NOW = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)


def _key(
    key_id: int,
    name: str,
    *,
    used_days_ago: int | None = None,
    created_days_ago: int = 200,
    project: str | None = None,
) -> PersonalKey | ProjectKey:
    used = None if used_days_ago is None else NOW - datetime.timedelta(days=used_days_ago)
    common = {
        "id": key_id,
        "name": name,
        "created_at": NOW - datetime.timedelta(days=created_days_ago),
        "created_by": Creator("u1"),
        "last_used_at": used,
    }
    if project:
        return ProjectKey(org_id="org-a", project_id=project, **common)  # type: ignore[arg-type]
    return PersonalKey(**common)  # type: ignore[arg-type]


def test_table_aligns_columns_under_an_upper_case_header() -> None:
    """Columns are padded to the widest cell and separated by two spaces."""
    text = _output.render_table(("id", "name"), [["1", "a"], ["100", "longer"]])
    assert text.splitlines() == ["ID   NAME", "1    a", "100  longer"]


def test_clean_replaces_control_characters() -> None:
    """Escape sequences and newlines cannot reach the terminal."""
    assert _output.clean("a\x1b[31mb\nc\x00") == "a?[31mb?c?"


def test_key_record_has_a_stable_field_order() -> None:
    """The JSON fields come in the documented order."""
    record = _output.key_record(
        OrgKey(id=1, name="x", created_at=None, created_by=None, org_id="o")
    )
    assert list(record) == KEY_FIELDS


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "K=v\n"),
        ("A=1\n", "A=1\nK=v\n"),
        ("A=1", "A=1\nK=v\n"),
        ("K=old\n", "K=v\n"),
        ("  K = old\r\n", "K=v\r\n"),
        ("export K=old\nB=2\n", "export K=v\nB=2\n"),
        ("K=1\nB=2\nK=3\n", "K=v\nB=2\n"),
        ("KEY=1\nK_2=2\n# K=3\n", "KEY=1\nK_2=2\n# K=3\nK=v\n"),
    ],
)
def test_dotenv_line_editing(before: str, after: str) -> None:
    """One assignment of the variable is set; every other line is kept as it was."""
    assert _sinks.set_dotenv_line(before, "K", "v") == after


def test_dotenv_quotes_unusual_values() -> None:
    """A value with spaces or quotes is written double-quoted and escaped."""
    assert _sinks.set_dotenv_line("", "K", 'a "b"') == 'K="a \\"b\\""\n'


def test_write_private_never_overwrites_without_replace(tmp_path: Path) -> None:
    """Without replace, a file that appeared meanwhile is kept and no temporary file is left."""
    target = tmp_path / "k"
    target.write_text("theirs")
    with pytest.raises(FileExistsError):
        _sinks.write_private(str(target), "mine", replace=False)
    assert target.read_text() == "theirs"
    assert os.listdir(tmp_path) == ["k"]


def test_write_private_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a filesystem without hard links the file is still created, 0600."""

    def no_links(_src: str, _dst: str) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    _sinks.write_private(str(tmp_path / "k"), "x", replace=False)
    assert (tmp_path / "k").read_text() == "x"
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["k"]


def test_audit_rules() -> None:
    """Never used, unused beyond the threshold, and all but the liveliest duplicate are flagged."""
    keys = [
        _key(1, "fresh", used_days_ago=1),
        _key(2, "stale", used_days_ago=91),
        _key(3, "never"),
        _key(4, "dup", used_days_ago=5),
        _key(5, "dup", used_days_ago=2),
        _key(6, "dup", created_days_ago=0),
    ]
    flagged = {
        f.key.id: [x.rule.value for x in f.findings]
        for f in _audit.audit(keys, unused_days=90, now=NOW)
    }
    assert flagged == {
        2: ["unused"],
        3: ["never_used"],
        4: ["duplicate_name"],
        6: ["never_used", "duplicate_name"],
    }


def test_duplicates_without_use_keep_the_newest() -> None:
    """Among never-used duplicates the most recently created one is kept."""
    keys = [_key(1, "d", created_days_ago=3), _key(2, "d", created_days_ago=1)]
    (first, second) = _audit.audit(keys, unused_days=90, now=NOW)
    assert [f.rule.value for f in first.findings] == ["never_used", "duplicate_name"]
    assert [f.rule.value for f in second.findings] == ["never_used"]


def test_duplicates_are_per_scope() -> None:
    """Keys of one name in different projects are not duplicates."""
    keys = [
        _key(1, "ci", used_days_ago=1, project="p-1"),
        _key(2, "ci", used_days_ago=1, project="p-2"),
    ]
    assert _audit.audit(keys, unused_days=90, now=NOW) == []


def test_never_used_age_wording() -> None:
    """A key created today says so rather than "0 days"."""
    (finding,) = _audit.audit([_key(1, "n", created_days_ago=0)], unused_days=90, now=NOW)
    assert finding.findings[0].message == "never used (created less than a day ago)"
