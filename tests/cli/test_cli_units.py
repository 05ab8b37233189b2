"""The CLI's pure pieces: table rendering, dotenv editing, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import KEY_FIELDS
from neon_keys import OrgKey, _files
from neon_keys.cli import _output


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
