"""A private CUPS server with one cups-pdf queue, for the tests that print for real.

Started as root on a socket of its own (cups-pdf runs only for a root cupsd); where Debian's
cups and printer-driver-cups-pdf are missing, ``missing()`` says what to install.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pypdf import PdfReader

CUPSD = Path("/usr/sbin/cupsd")
CUPS_PDF_BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
QUEUE = "BackClinicTestPDF"
MIN_DPI = 300
POINTS_PER_INCH = 72


def missing() -> str | None:
    for needed, package in (
        (CUPSD, "cups"),
        (CUPS_PDF_BACKEND, "printer-driver-cups-pdf"),
        (CUPS_PDF_PPD, "printer-driver-cups-pdf"),
    ):
        if not needed.exists():
            return f"{needed} is missing: install Debian's {package} package"
    if os.geteuid() != 0:
        return "cups-pdf only runs for a cupsd started as root"
    if ctypes.util.find_library("cups") is None:
        return "libcups is not installed"
    for tool in ("pdfimages", "pdftotext"):
        if shutil.which(tool) is None:
            return f"{tool} (poppler-utils) is not installed"
    return None


class CupsDidNotStart(RuntimeError):
    pass


@contextmanager
def private_cups_queue() -> Iterator[str]:
    """A private cupsd on a socket of its own with one cups-pdf queue; yields its name.

    CUPS_SERVER points at it meanwhile, for this process and the ones it starts."""
    # Not under pytest's tmp_path: cupsd's filters run as lp and must reach these folders.
    root = Path(tempfile.mkdtemp(prefix="backclinic-cups-"))
    root.chmod(0o755)
    for folder in ("spool", "cache", "state", "log", "ppd", "temp"):
        (root / folder).mkdir()
    (root / "temp").chmod(0o1777)
    socket = root / "cups.sock"
    (root / "cupsd.conf").write_text(
        f"Listen {socket}\nLogLevel warn\nWebInterface No\nBrowsing No\n"
        "DefaultAuthType None\n<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
        "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n",
        encoding="utf-8",
    )
    (root / "cups-files.conf").write_text(
        f"ServerRoot {root}\nRequestRoot {root / 'spool'}\nCacheDir {root / 'cache'}\n"
        f"StateDir {root / 'state'}\nTempDir {root / 'temp'}\n"
        f"AccessLog {root / 'log' / 'access_log'}\nErrorLog {root / 'log' / 'error_log'}\n"
        f"PageLog {root / 'log' / 'page_log'}\nSystemGroup root\n",
        encoding="utf-8",
    )
    daemon = subprocess.Popen(
        [str(CUPSD), "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf")]
    )
    environment = {**os.environ, "CUPS_SERVER": str(socket)}
    try:
        # Generous: on a loaded machine cupsd takes a while to answer.
        deadline = time.monotonic() + 60
        while subprocess.run(
            ["lpstat", "-r"], env=environment, capture_output=True, check=False
        ).returncode:
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise CupsDidNotStart("the private cupsd did not start: " + _log(root))
            time.sleep(0.2)
        subprocess.run(
            ["lpadmin", "-p", QUEUE, "-v", "cups-pdf:/", "-P", str(CUPS_PDF_PPD), "-E"],
            env=environment,
            check=True,
            capture_output=True,
        )
        # Qt reaches CUPS through libcups in this process: point this thread at our server.
        libcups = ctypes.CDLL(ctypes.util.find_library("cups"))
        libcups.cupsSetServer(str(socket).encode())
        os.environ["CUPS_SERVER"] = str(socket)
        yield QUEUE
    finally:
        os.environ.pop("CUPS_SERVER", None)
        daemon.terminate()
        daemon.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


def _log(root: Path) -> str:
    log = root / "log" / "error_log"
    return log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""


def arrived(since: float, title_part: str) -> Path | None:
    out = Path(pwd.getpwuid(os.getuid()).pw_dir) / "PDF"
    found = [
        path
        for path in out.glob("*.pdf")
        if path.stat().st_mtime >= since and title_part in path.name.replace("_", " ")
    ]
    return max(found, key=lambda path: path.stat().st_mtime) if found else None


def finished(path: Path | None) -> bool:
    """cups-pdf writes the file in place; it is done once it reads as a whole PDF."""
    if path is None:
        return False
    try:
        return len(PdfReader(path).pages) > 0
    except Exception:
        return False


def delivered(since: float, title_part: str, seconds: float = 60.0) -> Path:
    """The PDF cups-pdf wrote for a job titled ``title_part`` since ``since``, once whole;
    fails when none has arrived within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not finished(arrived(since, title_part)):
        assert time.monotonic() < deadline, f"{title_part} reached the CUPS queue"
        time.sleep(0.2)
    path = arrived(since, title_part)
    assert path is not None
    return path
