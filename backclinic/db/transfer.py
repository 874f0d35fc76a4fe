"""An engine-neutral logical dump of every table, restorable into SQLite or PostgreSQL.

The file is gzip-compressed JSON lines: a header (format, Alembic revision, table order and
each table's columns), then one line per row, tables in foreign-key order and rows in key
order, then an end line with the row count so that a truncated file is never taken for a
whole one. Values that JSON cannot carry are tagged: ``{"$date": ...}``,
``{"$datetime": ...}`` (always UTC), ``{"$bytes": <base64>}``, and JSON columns travel
as ``{"$json": ...}`` so that a stored object can never be mistaken for a tag.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert, select

DUMP_FORMAT = "backclinic-dump/1"
GZIP_MAGIC = b"\x1f\x8b"
INSERT_BATCH = 500


class DumpError(RuntimeError):
    """A dump file is unreadable, truncated or not a BackClinic dump; the message says which."""


@dataclass(frozen=True)
class DumpHeader:
    format: str
    revision: str
    created_at: str
    source_dialect: str
    tables: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]


def is_dump(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def encode(value: Any, *, json_column: bool = False) -> Any:
    if value is None:
        return None
    if json_column:
        return {"$json": value}
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware to be dumped")
        return {"$datetime": value.astimezone(dt.UTC).isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot dump a value of type {type(value).__name__}")


def decode(value: Any) -> Any:
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((tag, payload),) = value.items()
    if tag == "$json":
        return payload
    if tag == "$datetime":
        return dt.datetime.fromisoformat(payload).astimezone(dt.UTC)
    if tag == "$date":
        return dt.date.fromisoformat(payload)
    if tag == "$bytes":
        return base64.b64decode(payload)
    raise DumpError(f"unknown value tag {tag!r}")


def write_dump(
    connection: Connection,
    tables: Sequence[Table],
    destination: Path,
    *,
    revision: str,
    created_at: dt.datetime,
) -> int:
    """Write every row of ``tables`` (already in foreign-key order); returns the row count.

    The caller chooses the snapshot: run this inside one REPEATABLE READ (PostgreSQL) or one
    read transaction (SQLite) so that the tables agree with each other.
    """
    header = {
        "format": DUMP_FORMAT,
        "revision": revision,
        "created_at": created_at.astimezone(dt.UTC).isoformat(),
        "source_dialect": connection.dialect.name,
        "tables": [table.name for table in tables],
        "columns": {table.name: [column.name for column in table.columns] for table in tables},
    }
    count = 0
    # Readable by the owner only from the first byte: patient data goes into it.
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(destination, 0o600)
    with open(descriptor, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as zipped:
        _write_line(zipped, header)
        for table in tables:
            json_columns = [isinstance(column.type, JSON) for column in table.columns]
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            for row in rows:
                values = [
                    encode(value, json_column=is_json)
                    for value, is_json in zip(row, json_columns, strict=True)
                ]
                _write_line(zipped, {"t": table.name, "r": values})
                count += 1
        _write_line(zipped, {"end": True, "rows": count})
        zipped.flush()
        raw.flush()
        os.fsync(raw.fileno())
    return count


def _write_line(handle: gzip.GzipFile, item: Mapping[str, Any]) -> None:
    handle.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    handle.write(b"\n")


# A corrupt deflate stream raises zlib.error, which is not an OSError like gzip's own.
DAMAGED = (OSError, EOFError, zlib.error)


def read_header(source: Path) -> DumpHeader:
    try:
        with gzip.open(source, "rb") as handle:
            line = handle.readline()
    except DAMAGED as error:
        raise DumpError(f"{source.name} is damaged or truncated ({error}).") from error
    return _header(source, line)


def _header(source: Path, line: bytes) -> DumpHeader:
    try:
        item = json.loads(line)
    except (ValueError, OSError, EOFError) as error:
        raise DumpError(f"{source.name} is not a BackClinic dump ({error}).") from error
    if not isinstance(item, dict) or item.get("format") != DUMP_FORMAT:
        found = item.get("format") if isinstance(item, dict) else None
        raise DumpError(
            f"{source.name} is not a BackClinic dump in format {DUMP_FORMAT} (found {found!r})."
        )
    return DumpHeader(
        format=item["format"],
        revision=str(item["revision"]),
        created_at=str(item["created_at"]),
        source_dialect=str(item.get("source_dialect", "")),
        tables=tuple(item["tables"]),
        columns={name: tuple(columns) for name, columns in item["columns"].items()},
    )


def read_rows(source: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each row as (table, {column: value}); raises DumpError at the end of a truncated file."""
    try:
        with gzip.open(source, "rb") as handle:
            header = _header(source, handle.readline())
            for count, line in enumerate(handle):
                item = json.loads(line)
                if item.get("end"):
                    if item.get("rows") != count:
                        raise DumpError(
                            f"{source.name} says it holds {item.get('rows')} rows but has {count}."
                        )
                    return
                table = item["t"]
                columns = header.columns[table]
                yield (
                    table,
                    {
                        column: decode(value)
                        for column, value in zip(columns, item["r"], strict=True)
                    },
                )
    except (*DAMAGED, ValueError, KeyError) as error:
        raise DumpError(f"{source.name} is damaged or truncated ({error}).") from error
    raise DumpError(f"{source.name} is truncated: its end marker is missing.")


def load_rows(
    connection: Connection,
    rows: Iterable[tuple[str, dict[str, Any]]],
    tables: Mapping[str, Table],
) -> int:
    """Insert rows in the order given (foreign-key order) in batches; returns the count."""
    count = 0
    batch: list[dict[str, Any]] = []
    batch_table: str | None = None
    for table_name, row in rows:
        if table_name not in tables:
            raise DumpError(f"the dump has a table {table_name!r} this schema does not know.")
        if batch and (table_name != batch_table or len(batch) >= INSERT_BATCH):
            assert batch_table is not None
            connection.execute(insert(tables[batch_table]), batch)
            batch = []
        batch_table = table_name
        batch.append(row)
        count += 1
    if batch:
        assert batch_table is not None
        connection.execute(insert(tables[batch_table]), batch)
    return count


def table_rows(source: Connection, tables: Sequence[Table]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rows of ``tables`` read from ``source`` in foreign-key and key order, for load_rows."""
    for table in tables:
        result = source.execute(select(table).order_by(*table.primary_key.columns))
        for row in result.mappings():
            yield table.name, dict(row)
