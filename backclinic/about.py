"""What this build of BackClinic is: `--version` (app, schema revision, Qt and Python).

Imported by the command line only; it loads Alembic and Qt's core when asked, not before.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from typing import Any

from backclinic import __version__

APP_NAME = "BackClinic"


def version_text() -> str:
    """Four lines: the app, the schema revision its migrations end at, Qt and Python."""
    import PySide6
    from PySide6.QtCore import qVersion

    from backclinic.db.migrate import head_revision

    return "\n".join(
        [
            f"{APP_NAME} {__version__}",
            f"Schema revision {head_revision()}",
            f"Qt {qVersion()} (PySide6 {PySide6.__version__})",
            f"Python {platform.python_version()} ({platform.python_implementation()}, "
            f"{sys.platform})",
        ]
    )


class ShowVersion(argparse.Action):
    """`--version`: print version_text() and exit 0, like argparse's own, but computed late."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the app, schema, Qt and Python versions and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(version_text())
        parser.exit()
