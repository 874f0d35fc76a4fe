"""The strict JSON reader: every hostile file is refused in one sentence naming its path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backclinic.domain.json_input import (
    MAX_DEPTH,
    JsonInputError,
    loads_strict,
    read_json_file,
)
from backclinic.domain.untrusted_text import escape_controls


def refusal(text: str) -> JsonInputError:
    with pytest.raises(JsonInputError) as caught:
        loads_strict(text)
    return caught.value


def test_an_ordinary_document_reads_as_plain_dicts_lists_and_numbers() -> None:
    document = loads_strict('{"a": [1, 2.5, "x\\ny", null, true], "b": {"c": -3}}')
    assert document == {"a": [1, 2.5, "x\ny", None, True], "b": {"c": -3}}


def test_nesting_fifty_thousand_deep_is_refused_without_a_recursion_error() -> None:
    error = refusal("[" * 50_000 + "]" * 50_000)
    assert f"nested more than {MAX_DEPTH} levels deep at line 1 column {MAX_DEPTH + 1}" in str(
        error
    )


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert loads_strict('{"notes": "' + "[" * 100 + '"}') == {"notes": "[" * 100}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_at_their_path(constant: str) -> None:
    error = refusal(f'{{"nprs": {{"current": {constant}}}}}')
    assert error.location == "nprs.current"
    assert f"{constant} is not a number JSON allows" in str(error)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" * 5000, "9007199254740993"])
def test_numbers_beyond_exact_floats_are_refused_not_overflowed(number: str) -> None:
    error = refusal(f'{{"sessions": [{{"pain_before": {number}}}]}}')
    assert error.location == "sessions[0].pain_before"
    assert "is out of range" in error.reason


def test_a_lone_surrogate_is_refused_at_its_path() -> None:
    error = refusal('{"patient": {"given_name": "Ana\\ud800"}}')
    assert error.location == "patient.given_name"
    assert "lone surrogate U+D800" in error.reason


@pytest.mark.parametrize(
    ("escaped", "named"), [("\\u0000", "U+0000 (NUL)"), ("\\u001b[31m", "U+001B (ESCAPE)")]
)
def test_control_characters_in_text_are_refused_and_named(escaped: str, named: str) -> None:
    error = refusal(f'{{"patient": {{"family_name": "Riv{escaped}era"}}}}')
    assert str(error) == f"patient.family_name: holds the control character {named}"


def test_a_key_that_appears_twice_is_refused_rather_than_the_last_one_winning() -> None:
    error = refusal('{"patient": {"mrn": "A-1", "mrn": "A-2"}}')
    assert str(error) == "patient.mrn: appears twice in the same object"


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as stream:
        stream.truncate(21 * 1024 * 1024)
    with pytest.raises(JsonInputError, match="larger than 20 MB, too large for a case file"):
        read_json_file(huge)


def test_a_device_is_not_read_as_a_case_file() -> None:
    with pytest.raises(JsonInputError, match="/dev/zero is not a regular file"):
        read_json_file(Path("/dev/zero"))


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "case.json"
    os.mkfifo(fifo)
    with pytest.raises(JsonInputError, match="is not a regular file"):
        read_json_file(fifo)


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"n": "Nuñez"}'.encode("latin-1"))
    with pytest.raises(JsonInputError, match="not UTF-8 text"):
        read_json_file(latin)


def test_terminal_output_shows_escapes_instead_of_obeying_them() -> None:
    assert escape_controls("Rivera\x1b[2J\x00\u202e") == "Rivera\\x1b[2J\\x00\\u202e"
    assert escape_controls("two\nlines\tand tab") == "two\nlines\tand tab"
