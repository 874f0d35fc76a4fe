"""Edited copies of the shipped protocol, as a clinic would make them: the shipped file
with one change, written to a temporary folder and loaded with the real loader."""

from __future__ import annotations

from pathlib import Path

from backclinic.domain.protocol import Protocol, default_protocol_path, load_protocol

# The precaution and point the one-rule tests use: BL40 is a default point of every phase,
# and neither the shipped protocol nor the catalogue rules it out under anticoagulants.
AVOIDING_PRECAUTION = "anticoagulants"
AVOIDING_LABEL = "Anticoagulants or bleeding disorder"
AVOIDED_POINT = "BL40"


def protocol_avoiding(
    folder: Path, precaution: str = AVOIDING_PRECAUTION, point: str = AVOIDED_POINT
) -> Protocol:
    """The shipped protocol with ``point`` added to ``[precautions.<precaution>]``'s
    ``avoid_points`` (the key is added when the precaution has none)."""
    text = default_protocol_path().read_text(encoding="utf-8")
    header = f"[precautions.{precaution}]\n"
    start = text.index(header)
    end = text.find("\n[", start + len(header))
    section = text[start:end]
    if "avoid_points = [" in section:
        edited = section.replace("avoid_points = [", f'avoid_points = ["{point}", ', 1)
    else:
        edited = section.rstrip("\n") + f'\navoid_points = ["{point}"]\n'
    path = folder / "integrative_lbp.clinic.toml"
    path.write_text(text[:start] + edited + text[end:], encoding="utf-8")
    return load_protocol(path)
