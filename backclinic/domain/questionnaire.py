"""Questionnaire texts (ODI v2.1a, STarT Back) from ``resources/questionnaires/*.toml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backclinic.domain.datafile import DataFileError, Table, read_toml
from backclinic.domain.resources import resources_dir

ODI_FILE = "odi_v2_1a.toml"
STARTBACK_FILE = "startback.toml"


class QuestionnaireError(DataFileError):
    """A questionnaire file is missing or malformed."""


@dataclass(frozen=True)
class Question:
    """One section (ODI) or item (STarT Back); the answer stored is the option's index."""

    number: int
    text: str
    options: tuple[str, ...]
    psychosocial: bool


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: str
    instructions: str
    questions: tuple[Question, ...]
    copyright: str = ""
    """The owner's notice, shown wherever the questionnaire is shown or printed."""


def load_questionnaire(file_name: str, resources: Path | None = None) -> Questionnaire:
    """Load ``questionnaires/<file_name>``. ODI files list ``[[sections]]`` with
    ``statements``; others ``[[items]]`` with ``options``."""
    path = (resources or resources_dir()) / "questionnaires" / file_name
    root = Table(
        read_toml(path, QuestionnaireError), file=path.name, path="", error=QuestionnaireError
    )
    list_key, text_key, options_key = (
        ("sections", "title", "statements")
        if root.has("sections")
        else ("items", "text", "options")
    )
    questions = []
    for index, table in enumerate(root.tables(list_key)):
        number = table.integer("number", index + 1, index + 1)
        questions.append(
            Question(
                number=number,
                text=table.text(text_key),
                options=table.text_list(options_key, allow_empty=False),
                psychosocial=table.flag("psychosocial", default=False),
            )
        )
        table.finish()
    questionnaire = Questionnaire(
        id=root.text("id"),
        version=root.text("version"),
        title=root.text("title"),
        instructions=root.text("instructions"),
        questions=tuple(questions),
        copyright=root.optional_text("copyright") or "",
    )
    root.finish()
    return questionnaire
