"""A damaged PostgreSQL dump (the gzip stream itself corrupt) is refused in one sentence by
every reader, never with a zlib traceback."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from backclinic.db.transfer import DUMP_FORMAT, DumpError, read_header


def damaged_dump(tmp_path: Path) -> Path:
    header = {"format": DUMP_FORMAT, "revision": "0011_mrn_fold", "created_at": "2026-12-02"}
    data = bytearray(
        gzip.compress(json.dumps(header).encode() + b"\n" + b'{"t":"patient","r":[1]}\n' * 5000)
    )
    # Past gzip's own ten-byte header: the deflate stream is what a flipped disk block hits.
    data[12:40] = b"\xff" * 28
    path = tmp_path / "backup.dump"
    path.write_bytes(bytes(data))
    return path


def test_a_dump_whose_compressed_stream_is_damaged_is_refused_by_its_header_reader(
    tmp_path: Path,
) -> None:
    with pytest.raises(DumpError) as refused:
        read_header(damaged_dump(tmp_path))

    assert str(refused.value).startswith("backup.dump is damaged")


def test_a_dump_damaged_after_its_header_is_refused_by_the_row_reader(tmp_path: Path) -> None:
    from backclinic.db.transfer import read_rows

    rng = random.Random(5)
    header = {
        "format": DUMP_FORMAT,
        "revision": "0011_mrn_fold",
        "created_at": "2026-12-02",
        "columns": {"patient": ["id"]},
    }
    rows = b"".join(
        json.dumps({"t": "patient", "r": [rng.randrange(10**9)]}).encode() + b"\n"
        for _ in range(20000)
    )
    data = bytearray(gzip.compress(json.dumps(header).encode() + b"\n" + rows))
    # One flipped bit where the deflate stream of these rows no longer decodes (zlib.error).
    data[100] ^= 0x01
    path = tmp_path / "backup.dump"
    path.write_bytes(bytes(data))

    with pytest.raises(DumpError) as refused:
        for _row in read_rows(path):
            pass

    assert "backup.dump is damaged" in str(refused.value)
