"""The command-line account, for tests that act without signing in (as headless commands do)."""

from __future__ import annotations

from backclinic.services.context import Actor

COMMAND_LINE = Actor(clinician_id=None, name="command line (tests)", role="system")
