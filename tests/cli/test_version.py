from __future__ import annotations

import platform

import pytest
from PySide6.QtCore import qVersion

from backclinic import __version__
from backclinic.cli import main
from backclinic.db.migrate import head_revision


def test_version_names_the_app_the_schema_revision_qt_and_python(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"BackClinic {__version__}"
    assert lines[1] == f"Schema revision {head_revision()}"
    assert lines[2].startswith(f"Qt {qVersion()} (PySide6 ")
    assert lines[3].startswith(f"Python {platform.python_version()} (")
