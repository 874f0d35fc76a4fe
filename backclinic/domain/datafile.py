"""Strict reading of the clinic's TOML data files (protocols, catalogues, questionnaires).

A clinic edits these files by hand, so every mistake must come back as one sentence that
names the file, the key and what is wrong, e.g.
``integrative_lbp.v1.toml: phases[0].acupuncture.per_week: must be an integer from 1 to 7,
got "two"``. Array positions in key paths count from 0, as in TOML tooling.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")


class DataFileError(ValueError):
    """A data file is missing, unreadable, or does not match what the app expects."""


def _shown(value: object) -> str:
    """How a bad value appears in a message: strings quoted, tables and lists abbreviated."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return repr(value)


def read_toml(path: Path, error: type[DataFileError]) -> dict[str, Any]:
    """Parse ``path``; a missing file or bad syntax raises ``error`` with the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line N, column M)" in its message; keep it, it is the useful part.
        raise error(f"{path.name}: not valid TOML: {exc}") from exc


class Table:
    """One TOML table being read: typed getters that fail with file/key/reason messages.

    Every key read is remembered so that ``finish()`` can reject keys the app does not
    know — a misspelt key would otherwise be silently ignored and the clinic would believe
    its change took effect.
    """

    def __init__(
        self, data: dict[str, Any], *, file: str, path: str, error: type[DataFileError]
    ) -> None:
        self._data = data
        self.file = file
        self.path = path
        self._error = error
        self._seen: set[str] = set()

    def key_path(self, key: str) -> str:
        if not key:
            return self.path
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, reason: str) -> DataFileError:
        """An error for ``key`` in this table (return value is meant to be raised)."""
        return self._error(f"{self.file}: {self.key_path(key)}: {reason}")

    def has(self, key: str) -> bool:
        return key in self._data

    def names(self) -> list[str]:
        return list(self._data)

    def _raw(self, key: str) -> Any:
        self._seen.add(key)
        if key not in self._data:
            raise self.fail(key, "is required but missing")
        return self._data[key]

    def text(self, key: str) -> str:
        value = self._raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be non-empty text, got {_shown(value)}")
        return value.strip()

    def text_or_empty(self, key: str) -> str:
        """Text that may be empty (a spelling that drops a letter), never another type."""
        value = self._raw(key)
        if not isinstance(value, str):
            raise self.fail(key, f"must be text, got {_shown(value)}")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else self._mark(key, None)

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._raw(key)
        # bool is an int subclass in Python; "true" is never a valid count.
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.fail(key, f"must be an integer from {low} to {high}, got {_shown(value)}")
        return value

    def optional_integer(self, key: str, low: int, high: int) -> int | None:
        return self.integer(key, low, high) if self.has(key) else self._mark(key, None)

    def flag(self, key: str, default: bool | None = None) -> bool:
        if default is not None and not self.has(key):
            return self._mark(key, default)
        value = self._raw(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {_shown(value)}")
        return value

    def text_list(self, key: str, *, allow_empty: bool = True) -> tuple[str, ...]:
        if allow_empty and not self.has(key):
            return self._mark(key, ())
        value = self._raw(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"must be a list of non-empty texts, got {_shown(value)}")
        if not allow_empty and not value:
            raise self.fail(key, "must list at least one entry")
        if len(set(value)) != len(value):
            raise self.fail(key, "lists the same entry twice")
        return tuple(value)

    def integer_list(self, key: str, low: int, high: int) -> tuple[int, ...]:
        value = self._raw(key)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value
        ):
            raise self.fail(
                key, f"must be a list of integers from {low} to {high}, got {_shown(value)}"
            )
        return tuple(value)

    def table(self, key: str) -> Table:
        value = self._raw(key)
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {_shown(value)}")
        return Table(value, file=self.file, path=self.key_path(key), error=self._error)

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]``), each addressed as ``key[i]``."""
        value = self._raw(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"must be a non-empty array of tables, got {_shown(value)}")
        result = []
        for index, item in enumerate(value):
            item_path = f"{self.key_path(key)}[{index}]"
            if not isinstance(item, dict):
                raise self._error(f"{self.file}: {item_path}: must be a table, got {_shown(item)}")
            result.append(Table(item, file=self.file, path=item_path, error=self._error))
        return result

    def subtables(self) -> Iterator[tuple[str, Table]]:
        """Every entry of this table, each of which must itself be a table (keyed by code)."""
        for key in self.names():
            yield key, self.table(key)

    def finish(self) -> None:
        """Reject keys nobody read: they are typos or settings this version does not know."""
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise self.fail(unknown[0], "is not a known setting here")

    def _mark(self, key: str, value: _T) -> _T:
        self._seen.add(key)
        return value
