"""Words for every screen, message and page: counted nouns ("1 visit", "2 visits"),
weekday names, and a sentence continued after a colon."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str) -> str:
    """The count and the noun that agrees with it."""
    return f"{count:,} {singular if count == 1 else plural}"


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_name(weekday: int) -> str:
    """English name of a ``date.weekday()`` number, for messages and settings screens."""
    return _WEEKDAY_NAMES[weekday]


def continued(sentence: str) -> str:
    """``sentence`` continuing another after its colon: its first letter in lower case,
    unless the first word is an abbreviation ("PT", "ODI") that keeps its capitals."""
    if sentence[1:2].isupper():
        return sentence
    return sentence[:1].lower() + sentence[1:]
