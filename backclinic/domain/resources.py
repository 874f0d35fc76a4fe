"""Where the app's data files live: ``resources/`` beside the ``backclinic`` package."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The ``resources`` folder (protocols, catalogues, questionnaires, schemas)."""
    return Path(__file__).resolve().parents[2] / "resources"
