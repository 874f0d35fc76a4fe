"""Helpers for packaging/backclinic.spec and `make bundle`: what to leave out, what to add.

Kept out of the spec so they can be read and checked like any other code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# The Qt modules BackClinic imports (QtCharts on the Progress tab, QtPdf and QtPdfWidgets
# for print preview, QtPrintSupport for printing); every other one is left out.
USED_QT_MODULES = frozenset(
    {"QtCore", "QtGui", "QtWidgets", "QtCharts", "QtPdf", "QtPdfWidgets", "QtPrintSupport"}
)


def pyside6_folder() -> Path:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        raise RuntimeError("PySide6 is not installed in this interpreter")
    return Path(spec.origin).parent


def unused_qt_modules() -> list[str]:
    """Every PySide6.Qt* extension module installed here that the app does not import."""
    names = {
        path.name.split(".", 1)[0]
        for path in pyside6_folder().iterdir()
        if path.name.startswith("Qt") and path.suffix in (".so", ".pyd")
    }
    return sorted(f"PySide6.{name}" for name in names - USED_QT_MODULES)


DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=BackClinic
GenericName=Back pain clinic records
Comment=Integrative acupuncture and physical therapy for back pain
Exec="{executable}"
Icon={icon}
Terminal=false
Categories=Office;MedicalSoftware;
StartupWMClass=BackClinic
"""


# Where the README's Linux steps put the bundle; the .desktop file names it absolutely.
INSTALL_FOLDER = Path("/opt/BackClinic")


def desktop_entry(installed_at: Path = INSTALL_FOLDER) -> str:
    """The Linux .desktop file for the bundle folder once it is installed at installed_at."""
    icon = installed_at / "_internal" / "resources" / "icons" / "backclinic.png"
    return DESKTOP_ENTRY.format(executable=installed_at / "BackClinic", icon=icon)


def write_desktop_entry(bundle: Path, installed_at: Path = INSTALL_FOLDER) -> Path:
    target = bundle / "BackClinic.desktop"
    target.write_text(desktop_entry(installed_at), encoding="utf-8")
    return target
