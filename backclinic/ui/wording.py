"""Counted words in spin boxes: "1 visit per week", "2 visits per week"."""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox

from backclinic.domain.wording import counted

__all__ = ["count_suffix", "counted"]


def count_suffix(spin: QSpinBox, singular: str, plural: str) -> None:
    """Keep the spin box's suffix agreeing with its value as the clinician changes it."""

    def agree(value: int) -> None:
        spin.setSuffix(f" {singular if value == 1 else plural}")

    spin.valueChanged.connect(agree)
    agree(spin.value())
