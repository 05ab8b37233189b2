"""The CLI's pure pieces: table rendering, dotenv editing, audit rules, atomic writes."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from cli_support import KEY_FIELDS
from neon_keys import Creator, OrgKey, PersonalKey, ProjectKey, _files
from neon_keys.cli import _audit, _output

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


def test_write_private_never_overwrites_without_replace(tmp_path: Path) -> None:
    """Without replace, a file that appeared meanwhile is kept and no temporary file is left."""
    target = tmp_path / "k"
    target.write_text("theirs")
    with pytest.raises(FileExistsError):
        _files.write_private(str(target), "mine", replace=False)
    assert target.read_text() == "theirs"
    assert os.listdir(tmp_path) == ["k"]


def test_write_private_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a filesystem without hard links the file is still created, 0600."""

    def no_links(_src: str, _dst: str) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    _files.write_private(str(tmp_path / "k"), "x", replace=False)
    assert (tmp_path / "k").read_text() == "x"
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["k"]


def test_audit_rules() -> None:
    """Never used, unused beyond the threshold, and duplicates newer than the key in use are
    flagged; keys replaced by a newer key in use are retiring, not flagged."""
    keys = [
        _key(1, "fresh", used_days_ago=1),
        _key(2, "stale", used_days_ago=91),
        _key(3, "never"),
        _key(4, "dup", used_days_ago=5),
        _key(5, "dup", used_days_ago=2),
        _key(6, "dup", created_days_ago=3),
    ]
    flagged = {
        f.key.id: [x.rule.value for x in f.findings]
        for f in _audit.audit(keys, unused_days=90, now=NOW)
    }
    assert flagged == {
        2: ["unused"],
        3: ["never_used"],
        6: ["never_used", "duplicate_name"],
    }
    assert set(_audit.retiring_keys(keys, NOW)) == {4}


def _age(hours: float) -> datetime.datetime:
    return NOW - datetime.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("created_hours_ago", "min_age", "flagged"),
    [
        (0.0, datetime.timedelta(days=1), False),
        (23.99, datetime.timedelta(days=1), False),
        (24.0, datetime.timedelta(days=1), True),
        (30.0, datetime.timedelta(days=1), True),
        (0.5, datetime.timedelta(minutes=20), True),
        (0.5, datetime.timedelta(hours=1), False),
        (0.0, datetime.timedelta(0), True),
    ],
)
def test_keys_younger_than_the_minimum_age_are_never_findings(
    created_hours_ago: float, min_age: datetime.timedelta, flagged: bool
) -> None:
    """A never-used key is flagged only once it is at least min_age old (the boundary counts)."""
    key = PersonalKey(id=1, name="n", created_at=_age(created_hours_ago), created_by=None)
    found = _audit.audit([key], unused_days=90, now=NOW, min_age=min_age)
    assert bool(found) is flagged


def test_the_old_half_of_a_rotation_is_retiring_not_a_duplicate() -> None:
    """The new half of a rotation is never flagged; the old key it replaces is retiring."""
    old = _key(1, "ci", used_days_ago=2, created_days_ago=30)
    new = PersonalKey(id=2, name="ci", created_at=_age(1), created_by=None, last_used_at=_age(0.5))
    assert _audit.audit([old, new], unused_days=90, now=NOW) == []
    (retiring,) = _audit.retiring_keys([old, new], NOW).values()
    assert (retiring.key.id, retiring.replacement.id) == (1, 2)  # type: ignore[union-attr]


def test_a_key_of_unknown_age_is_not_flagged() -> None:
    """A key whose creation time Neon did not give counts as young: never flagged."""
    key = PersonalKey(id=1, name="n", created_at=None, created_by=None)
    assert _audit.audit([key], unused_days=90, now=NOW) == []


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


@pytest.mark.parametrize(
    ("min_age", "created_hours_ago", "wording"),
    [
        (datetime.timedelta(hours=1), 2, "never used (created less than a day ago)"),
        (datetime.timedelta(days=1), 24, "never used (created 1 day ago)"),
        (datetime.timedelta(days=1), 24 * 40, "never used (created 40 days ago)"),
    ],
)
def test_never_used_age_wording(
    min_age: datetime.timedelta, created_hours_ago: int, wording: str
) -> None:
    """The age of a never-used key reads as people say it, not "0 days"."""
    key = PersonalKey(id=1, name="n", created_at=_age(created_hours_ago), created_by=None)
    (finding,) = _audit.audit([key], unused_days=90, now=NOW, min_age=min_age)
    assert finding.findings[0].message == wording


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_probing_and_writing_leave_no_descriptor_open(tmp_path: Path) -> None:
    """Probing a folder and writing a secret's file close every descriptor they open."""
    before = _open_descriptors()
    _files.probe_folder(str(tmp_path))
    _files.write_private(str(tmp_path / "k"), "x", replace=True)
    assert _open_descriptors() == before
    assert os.listdir(tmp_path) == ["k"]


def test_a_refused_folder_says_why(tmp_path: Path) -> None:
    """The error for a folder that cannot hold the file names the folder and the reason."""
    missing = tmp_path / "missing"
    with pytest.raises(_files.FolderRefused) as caught:
        _files.probe_folder(str(missing))
    assert str(caught.value) == caught.value.reason == f"folder {missing} does not exist"
