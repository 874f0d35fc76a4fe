"""Strict, bounded reading of a JSON file someone else wrote (a case file to import).

Python's ``json`` module is generous where an importer must not be: it reads a file of any
size, recurses until the interpreter gives up, turns ``NaN`` and ``Infinity`` into floats
no other program reads back, makes ``1e400`` infinite, keeps the last of two equal keys and
lets ``"\\ud800"`` and ``"\\u0000"`` through into text that no database column or terminal
should receive. Here each of those is refused with one sentence naming the JSON path of the
value (``patient.family_name: …``), before anything reaches a service.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backclinic.domain.untrusted_text import describe_character, first_control, lone_surrogate

MAX_BYTES = 20 * 1024 * 1024
# A case file nests six levels at most (document → plan → phases → [i] → acupuncture →
# per_week); sixteen leaves room for later formats and none for a stack-exhausting file.
MAX_DEPTH = 16
# The largest integer a float holds exactly: every JSON reader agrees on numbers up to it.
MAX_MAGNITUDE = 2**53
_MAX_INTEGER_DIGITS = len(str(MAX_MAGNITUDE))
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset("[{")
_SHOWN_CHARACTERS = 40


class JsonInputError(ValueError):
    """The file is refused; ``location`` is the JSON path (empty: the file as a whole)."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}" if location else reason)


@dataclass(frozen=True)
class _Refused:
    """A value the decoder met and must not keep; reported with its path by the walk."""

    reason: str


class _Object(dict[str, Any]):
    """An object the decoder built; it remembers a key that appeared twice."""

    repeated_key: str | None = None


def read_json_file(path: Path, *, max_bytes: int = MAX_BYTES) -> Any:
    """The document in ``path``, read strictly; JsonInputError names the first problem."""
    data = _read_bounded(path, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise JsonInputError("", f"{path}: not UTF-8 text, so not a case file.") from None
    return loads_strict(text, source=str(path))


def loads_strict(text: str, *, source: str = "the file") -> Any:
    """Parse ``text`` as strict JSON, bounded in depth and numbers, with clean strings."""
    _check_depth(text, source)
    try:
        document = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_integer,
        )
    except json.JSONDecodeError as error:
        raise JsonInputError(
            "", f"{source}: not valid JSON at line {error.lineno} column {error.colno}."
        ) from None
    except RecursionError:  # pragma: no cover - _check_depth stops far shallower files
        raise JsonInputError("", f"{source}: nested more than {MAX_DEPTH} levels deep.") from None
    for location, problem in _problems(document, ""):
        raise JsonInputError(location or "(top level)", problem)
    return document


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer that never comes.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise JsonInputError("", f"{path} does not exist.") from None
    except IsADirectoryError:
        raise JsonInputError("", f"{path} is a folder, not a case file.") from None
    except OSError as error:
        raise JsonInputError("", f"{path} cannot be read: {error.strerror}.") from None
    # Looked at before it is wrapped: a folder's descriptor cannot become a file object.
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        if stat.S_ISDIR(mode):
            raise JsonInputError("", f"{path} is a folder, not a case file.")
        raise JsonInputError("", f"{path} is not a regular file, so not a case file.")
    with os.fdopen(descriptor, "rb") as stream:
        try:
            # One byte past the limit tells "too large" without reading the rest.
            data = stream.read(max_bytes + 1)
        except OSError as error:
            raise JsonInputError("", f"{path} cannot be read: {error.strerror}.") from None
    if len(data) > max_bytes:
        limit = (
            f"{max_bytes // (1024 * 1024)} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes} bytes"
        )
        raise JsonInputError("", f"{path} is larger than {limit}, too large for a case file.")
    return data


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting beyond MAX_DEPTH before the recursive decoder ever sees it."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in _OPENING:
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                raise JsonInputError(
                    "",
                    f"{source}: lists and objects nested more than {MAX_DEPTH} levels deep "
                    f"at line {line} column {column}.",
                )
        elif token in "]}":
            depth -= 1


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    result = _Object()
    for key, value in pairs:
        if key in result and result.repeated_key is None:
            result.repeated_key = key
        result[key] = value
    return result


def _constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a number JSON allows")


def _float(text: str) -> float | _Refused:
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        return _Refused(f"{_shown(text)} is out of range (numbers up to {MAX_MAGNITUDE:,})")
    return value


def _integer(text: str) -> int | _Refused:
    # Checked before int(): 4,300 digits and more raise, and long ones cost quadratic time.
    if len(text.lstrip("-")) > _MAX_INTEGER_DIGITS or abs(int(text)) > MAX_MAGNITUDE:
        return _Refused(f"{_shown(text)} is out of range (numbers up to {MAX_MAGNITUDE:,})")
    return int(text)


def _problems(value: Any, location: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, _Refused):
        yield location, value.reason
    elif isinstance(value, str):
        problem = _text_problem(value)
        if problem:
            yield location, problem
    elif isinstance(value, dict):
        repeated = getattr(value, "repeated_key", None)
        if repeated is not None:
            yield _child(location, repeated), "appears twice in the same object"
            return
        for key, item in value.items():
            problem = _text_problem(key, allow_layout=False)
            if problem:
                yield location or "(top level)", f"a key {problem}"
                return
            yield from _problems(item, _child(location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(item, f"{location}[{index}]")


def _text_problem(text: str, *, allow_layout: bool = True) -> str | None:
    surrogate = lone_surrogate(text)
    if surrogate is not None:
        return f"holds a lone surrogate U+{ord(surrogate):04X}, which is not a character"
    control = first_control(text, allow_layout=allow_layout)
    if control is not None:
        return f"holds the control character {describe_character(control)}"
    return None


def _child(location: str, key: str) -> str:
    shown = key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else json.dumps(key)
    return f"{location}.{shown}" if location else shown


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARACTERS else f"{text[:_SHOWN_CHARACTERS]}…"
