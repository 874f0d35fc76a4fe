"""Helpers for packaging/backclinic.spec and `make bundle`: what to leave out, what to add.

Kept out of the spec so they can be read and checked like any other code.
"""

from __future__ import annotations

import importlib.util
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

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


# Python modules the app never reaches that the analysis would still follow: Pillow's
# codecs and font and colour engines (reportlab only reads a PNG or JPEG logo through it),
# its Qt and Tk bridges, and SQLAlchemy's asyncio support.
UNUSED_PYTHON_MODULES = [
    "PIL._avif",
    "PIL._webp",
    "PIL._imagingcms",
    "PIL._imagingft",
    "PIL.ImageQt",
    "PIL.ImageTk",
    "greenlet",
    "tkinter",
    "pytest",
    "hypothesis",
    "mypy",
    "IPython",
]

# On Linux, psycopg's own copy of libpq and OpenSSL (10 MB) is left out too: the bundle's
# psycopg then uses the system's libpq (package libpq5), which only a workstation on a
# PostgreSQL server needs. Windows and macOS have no such package, so they keep it.
LINUX_SYSTEM_PROVIDED_MODULES = ["psycopg_binary"]


def unused_python_modules(platform: str) -> list[str]:
    linux_only = LINUX_SYSTEM_PROVIDED_MODULES if platform.startswith("linux") else []
    return [*UNUSED_PYTHON_MODULES, *linux_only]


# Files PyInstaller's Qt hooks collect that a clinic workstation never loads, by their
# place in the bundle (fnmatch patterns).
LEFT_OUT_FILES = (
    # The on-screen keyboard input method, and the Qt Quick / QML stack that only it needs.
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "PySide6/Qt/lib/libQt6Qml*",
    "PySide6/Qt/lib/libQt6Quick*",
    # Embedded, framebuffer and remote platforms: a workstation draws on X11 or Wayland.
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/lib/libQt6EglFS*",
    "PySide6/Qt/lib/libQt6EglFs*",
    # The GTK theme plugin, and the copies of the GTK stack collected for it: GTK itself
    # comes from the system, and its cairo and pango must be the system's too.
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "libgtk-3.so*",
    "libgdk-3.so*",
    "libgdk_pixbuf-2.0.so*",
    "libatk-1.0.so*",
    "libcairo.so*",
    "libcairo-gobject.so*",
    "libpango-1.0.so*",
    "libpangocairo-1.0.so*",
    "libpangoft2-1.0.so*",
    "libpixman-1.so*",
    "libfribidi.so*",
    "libthai.so*",
    "libdatrie.so*",
    "libgraphite2.so*",
    "libharfbuzz.so*",
    "libepoxy.so*",
    # Image formats nobody hands the app (logos are PNG or JPEG; Qt reads PNG itself).
    "PySide6/Qt/plugins/imageformats/libqicns.so",
    "PySide6/Qt/plugins/imageformats/libqpdf.so",
    "PySide6/Qt/plugins/imageformats/libqtga.so",
    "PySide6/Qt/plugins/imageformats/libqtiff.so",
    "PySide6/Qt/plugins/imageformats/libqwbmp.so",
    "PySide6/Qt/plugins/imageformats/libqwebp.so",
    # Raw input devices (evdev, TUIO) are for framebuffer platforms, left out above.
    "PySide6/Qt/plugins/generic/*",
)

# Libraries every Linux desktop has, and whose copy must be the running system's own
# (the display server's X11 and xcb, fontconfig, GLib, D-Bus, and CUPS with the TLS and
# Kerberos libraries it is built against): PyInstaller copies them from the build
# machine, the bundle uses the workstation's. The same idea as AppImage's exclude list.
SYSTEM_LIBRARIES = (
    "libX11.so*",
    "libX11-xcb.so*",
    "libXau.so*",
    "libXdmcp.so*",
    "libXext.so*",
    "libXrender.so*",
    "libxcb*.so*",
    "libxkbcommon.so*",
    "libxkbcommon-x11.so*",
    "libfontconfig.so*",
    "libfreetype.so*",
    "libexpat.so*",
    "libpng16.so*",
    "libbrotlicommon.so*",
    "libbrotlidec.so*",
    "libglib-2.0.so*",
    "libgio-2.0.so*",
    "libgobject-2.0.so*",
    "libgmodule-2.0.so*",
    "libgthread-2.0.so*",
    "libpcre2-8.so*",
    "libmount.so*",
    "libblkid.so*",
    "libselinux.so*",
    "libdbus-1.so*",
    "libsystemd.so*",
    "libcap.so*",
    "libgcrypt.so*",
    "libgpg-error.so*",
    "liblz4.so*",
    "libzstd.so*",
    "libcups.so*",
    "libavahi-client.so*",
    "libavahi-common.so*",
    "libgnutls.so*",
    "libnettle.so*",
    "libhogweed.so*",
    "libgmp.so*",
    "libp11-kit.so*",
    "libtasn1.so*",
    "libidn2.so*",
    "libunistring.so*",
    "libgssapi_krb5.so*",
    "libkrb5.so*",
    "libk5crypto.so*",
    "libkrb5support.so*",
    "libcom_err.so*",
    "libkeyutils.so*",
    "libbsd.so*",
    "libmd.so*",
)
KEPT_TRANSLATIONS = "qtbase_*"  # Qt's own dialogs and messages; the app itself is English


def left_out(destination: str) -> bool:
    """Whether a file PyInstaller collected (named by its place in the bundle) is dropped
    together with everything that would load it."""
    path = PurePosixPath(destination.replace("\\", "/"))
    if path.parent.as_posix() == "PySide6/Qt/translations":
        return not fnmatch(path.name, KEPT_TRANSLATIONS)
    places = [str(path)]
    if path.parent.as_posix() == ".":
        # PyInstaller also links each Qt library into the top folder; the link goes too.
        places.append(f"PySide6/Qt/lib/{path.name}")
    return any(fnmatch(place, pattern) for place in places for pattern in LEFT_OUT_FILES)


def from_the_system(destination: str) -> bool:
    """Whether a collected library is one the workstation's own system provides (Linux)."""
    path = PurePosixPath(destination.replace("\\", "/"))
    top_level = path.parent.as_posix() == "."
    return top_level and any(fnmatch(path.name, pattern) for pattern in SYSTEM_LIBRARIES)


def kept(destination: str, platform: str) -> bool:
    if left_out(destination):
        return False
    return not (platform.startswith("linux") and from_the_system(destination))


DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=BackClinic
GenericName=Back pain clinic records
Comment=Integrative acupuncture and physical therapy for back pain
Exec="{executable}"
Icon={icon}
Terminal=false
Categories=Office;Science;MedicalSoftware;
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
