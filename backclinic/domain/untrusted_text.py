"""Text that came from outside (a file, a form, a database another program wrote).

Control characters are what turn such text into an attack: a NUL that PostgreSQL refuses
mid-transaction, an ANSI escape that rewrites the operator's terminal, a bidirectional
override that makes a name read backwards. Here they are found, and escaped for display.
"""

from __future__ import annotations

import unicodedata

# Layout characters a multi-line note may hold; everything else in Cc is refused.
LINE_LAYOUT = frozenset("\t\n\r")
# Bidirectional embeddings, overrides and isolates: invisible, and they reorder what follows.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_control(character: str, *, allow_layout: bool = False) -> bool:
    """True for C0/C1 controls (NUL, ESC…) and bidirectional overrides."""
    if allow_layout and character in LINE_LAYOUT:
        return False
    return unicodedata.category(character) == "Cc" or character in _BIDI_CONTROLS


def first_control(text: str, *, allow_layout: bool = False) -> str | None:
    """The first control character in ``text``, or None when there is none."""
    for character in text:
        if is_control(character, allow_layout=allow_layout):
            return character
    return None


def describe_character(character: str) -> str:
    """How a refused character is named in a message: ``U+001B (ESCAPE)``."""
    name = unicodedata.name(character, "") or _C0_NAMES.get(ord(character), "control")
    return f"U+{ord(character):04X} ({name})"


def lone_surrogate(text: str) -> str | None:
    """The first unpaired surrogate (``\\ud800``), which no UTF-8 file or database can hold."""
    for character in text:
        if "\ud800" <= character <= "\udfff":
            return character
    return None


def escape_controls(text: str) -> str:
    """``text`` safe to print on a terminal: controls (but line breaks) shown as ``\\x1b``."""
    if not any(is_control(ch, allow_layout=True) or _is_surrogate(ch) for ch in text):
        return text
    shown = []
    for character in text:
        if character in "\n\t":
            shown.append(character)
        elif is_control(character) or _is_surrogate(character):
            code = ord(character)
            shown.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            shown.append(character)
    return "".join(shown)


def _is_surrogate(character: str) -> bool:
    return "\ud800" <= character <= "\udfff"


# unicodedata has no names for the C0 controls; these are the ones worth naming.
_C0_NAMES = {
    0x00: "NUL",
    0x07: "BELL",
    0x08: "BACKSPACE",
    0x09: "TAB",
    0x0A: "LINE FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
}
