"""Output files: whole or nothing, owner-only, never over the live database or a device."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from backclinic.services.files import (
    OutputRefused,
    check_output,
    database_files,
    place,
    write_atomically,
)


def test_a_new_file_is_owner_only_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = write_atomically(tmp_path / "out.json", b"{}", force=False)
    assert target.read_bytes() == b"{}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_forcing_over_a_symbolic_link_replaces_the_link_not_its_target(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")
    link = tmp_path / "out.json"
    link.symlink_to(precious)

    with pytest.raises(OutputRefused, match="symbolic link"):
        write_atomically(link, b"new", force=False)
    write_atomically(link, b"new", force=True)

    assert precious.read_text() == "keep"
    assert not link.is_symlink() and link.read_bytes() == b"new"


def test_a_file_that_appears_after_the_check_is_not_overwritten(tmp_path: Path) -> None:
    target = check_output(tmp_path / "out.json", force=False)
    partial = tmp_path / ".out.json.partial"
    partial.write_bytes(b"ours")
    target.write_text("someone else's")

    with pytest.raises(OutputRefused, match="already exists"):
        place(partial, target, force=False)

    assert target.read_text() == "someone else's"


def test_the_live_database_and_its_companions_are_refused_by_any_name(tmp_path: Path) -> None:
    live = tmp_path / "clinic.db"
    live.write_bytes(b"SQLite format 3\x00")
    other_name = tmp_path / "same.db"
    os.link(live, other_name)
    for target in (live, other_name, Path(f"{live}-wal"), Path(f"{live}-shm")):
        with pytest.raises(OutputRefused, match="live database"):
            check_output(target, force=True, protected=database_files(live))
