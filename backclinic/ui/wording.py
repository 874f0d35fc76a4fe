"""Counted words on screen: "1 visit per week", "2 visits per week"."""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox


def counted(count: int, singular: str, plural: str) -> str:
    """The count and the noun that agrees with it."""
    return f"{count} {singular if count == 1 else plural}"


def count_suffix(spin: QSpinBox, singular: str, plural: str) -> None:
    """Keep the spin box's suffix agreeing with its value as the clinician changes it."""

    def agree(value: int) -> None:
        spin.setSuffix(f" {singular if value == 1 else plural}")

    spin.valueChanged.connect(agree)
    agree(spin.value())
