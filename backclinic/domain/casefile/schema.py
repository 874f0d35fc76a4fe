"""The case-file schema and the one sentence that words its first error.

The first problem, in document order, is reported as the JSON path of the offending value
and a readable reason, e.g. ``assessments[0].nprs.current: 11 is above 10``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from backclinic.domain.casefile.model import CaseFileProblem
from backclinic.domain.resources import resources_dir

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "case.schema.json"
_ENUM_SHOWN = 8
_SHOWN_CHARACTERS = 60
_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "array": "a list",
    "object": "an object",
    "boolean": "true or false",
    "null": "null",
}


@cache
def case_validator() -> Draft202012Validator:
    # Imported on first use: jsonschema costs start-up time the app never needs.
    import jsonschema

    schema = json.loads((resources_dir() / "schemas" / SCHEMA_FILE).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_problem(document: Any) -> CaseFileProblem | None:
    """The first way the document breaks the schema, in document order; None if it does not."""
    errors = list(case_validator().iter_errors(document))
    if not errors:
        return None
    first = min(errors, key=lambda error: _document_order(document, error))
    return _worded(document, first)


def _json_path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _document_order(document: Any, error: ValidationError) -> tuple[tuple[int, ...], int]:
    """Where an error sits in the file: key positions as written, then list indexes."""
    order = []
    node = document
    for part in error.absolute_path:
        if isinstance(node, Mapping):
            keys = list(node)
            order.append(keys.index(part) if part in keys else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            order.append(part)
            node = node[part] if part < len(node) else None
        else:
            order.append(0)
    # Among errors on the same value, the schema's own order of keywords decides.
    return tuple(order), _keyword_rank(error)


def _keyword_rank(error: ValidationError) -> int:
    ranks = ("type", "const", "enum", "required", "additionalProperties")
    return ranks.index(str(error.validator)) if error.validator in ranks else len(ranks)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 1] + "…"


def _worded(document: Any, error: ValidationError) -> CaseFileProblem:
    if error.validator in ("oneOf", "anyOf") and error.context:
        error = _best_branch(document, error.context)
    location = _json_path(error.absolute_path)
    value = error.instance
    keyword = error.validator
    argument: Any = error.validator_value
    reason: str
    if keyword == "maximum":
        reason = f"{_show(value)} is above {argument}"
    elif keyword == "minimum":
        reason = f"{_show(value)} is below {argument}"
    elif keyword == "enum":
        choices = [_show(c) for c in argument if c is not None]
        shown = ", ".join(choices[:_ENUM_SHOWN]) + (", …" if len(choices) > _ENUM_SHOWN else "")
        reason = f"{_show(value)} is not one of {shown}"
    elif keyword == "const":
        reason = f"{_show(value)} is not {_show(argument)}"
    elif keyword == "required":
        missing = next(name for name in argument if name not in value)
        reason = f"`{missing}` is required"
    elif keyword == "type":
        kinds = [argument] if isinstance(argument, str) else list(argument)
        words = " or ".join(_TYPE_WORDS.get(kind, kind) for kind in kinds)
        reason = f"expected {words}, got {_show(value)}"
    elif keyword == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = next(name for name in value if name not in allowed)
        reason = f"unexpected field {extra!r}"
    elif keyword in ("format", "pattern") and error.schema.get("format") == "date":
        reason = f"{_show(value)} is not a date (YYYY-MM-DD)"
    elif keyword == "pattern" and "ASHI" in str(argument):
        reason = f"{_show(value)} is not an acupoint code (e.g. BL23, EX-B2, ASHI)"
    elif keyword == "pattern" and str(argument).startswith(r"^\d{4}-\d{2}-\d{2}(T"):
        reason = f"{_show(value)} is not a date (YYYY-MM-DD) or date-time"
    elif keyword == "pattern":
        reason = f"{_show(value)} is not in the expected form"
    elif keyword in ("minItems", "maxItems") and error.schema.get("minItems") == error.schema.get(
        "maxItems"
    ):
        reason = f"has {len(value)} items, expected exactly {argument}"
    elif keyword == "minItems":
        reason = f"has {len(value)} items, expected at least {argument}"
    elif keyword == "maxItems":
        reason = f"has {len(value)} items, expected at most {argument}"
    elif keyword == "minLength":
        reason = "must not be empty"
    elif keyword == "maxLength":
        reason = f"is longer than {argument} characters"
    elif keyword == "uniqueItems":
        reason = "lists the same entry twice"
    else:
        reason = error.message
    return CaseFileProblem(location or "case file", reason)


def _best_branch(document: Any, errors: Sequence[ValidationError]) -> ValidationError:
    """Of the alternatives a value failed, the one it came closest to (fewest errors)."""
    branches: dict[Any, list[ValidationError]] = {}
    for error in errors:
        branches.setdefault(error.relative_schema_path[0], []).append(error)
    closest = min(branches.values(), key=len)
    return min(closest, key=lambda error: _document_order(document, error))
