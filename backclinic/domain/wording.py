"""Counted words, for every screen, message and page: "1 visit", "2 visits"."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str) -> str:
    """The count and the noun that agrees with it."""
    return f"{count:,} {singular if count == 1 else plural}"
