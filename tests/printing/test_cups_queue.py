"""A discharge summary printed through a real CUPS queue (a private cupsd with a cups-pdf
virtual printer) arrives whole and sharp: every page, with its text at printing
resolution. Skipped, with the reason, where Debian's cups and printer-driver-cups-pdf are
not installed."""

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
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinterInfo
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.services.bundle import build_services
from backclinic.ui.print_preview import DocumentOutput
from backclinic.ui.printing import PrinterChoice
from backclinic.ui.tasks import TaskRunner
from tests.services.test_documents import NOW, document_service, set_up_clinic, treated_patient

pytestmark = pytest.mark.slow

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


@pytest.fixture
def cups_queue() -> Iterator[str]:
    """A private cupsd on a socket of its own with one cups-pdf queue; yields its name."""
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
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
        deadline = time.monotonic() + 20
        while subprocess.run(
            ["lpstat", "-r"], env=environment, capture_output=True, check=False
        ).returncode:
            if time.monotonic() > deadline or daemon.poll() is not None:
                pytest.fail("the private cupsd did not start: " + _log(root))
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


def _arrived(since: float, title_part: str) -> Path | None:
    out = Path(pwd.getpwuid(os.getuid()).pw_dir) / "PDF"
    found = [
        path
        for path in out.glob("*.pdf")
        if path.stat().st_mtime >= since and title_part in path.name.replace("_", " ")
    ]
    return max(found, key=lambda path: path.stat().st_mtime) if found else None


def test_a_discharge_summary_printed_to_a_cups_queue_arrives_whole_and_sharp(
    qtbot: QtBot, database: OpenDatabase, cups_queue: str
) -> None:
    services = build_services(database.session_factory, clock=lambda: NOW)
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    documents = document_service(services)
    draft = documents.draft_discharge_summary(actor, patient_id)
    assert cups_queue in [info.printerName() for info in QPrinterInfo.availablePrinters()]
    output = DocumentOutput(
        documents, actor, title=draft.title, tasks=TaskRunner(synchronous=True), draft=draft
    )
    started = time.time() - 1

    # Printed by the printing process, as the window prints (it reaches CUPS_SERVER too).
    printed = output.send_to_printer(PrinterChoice(printer_name=cups_queue))

    assert printed == draft.pages
    assert output.sent_to == f"printer {cups_queue}"
    [kept] = documents.documents(actor, patient_id)
    assert kept.destination == f"printer {cups_queue}"
    qtbot.waitUntil(lambda: _finished(_arrived(started, draft.title)), timeout=60_000)
    arrived = _arrived(started, draft.title)
    assert arrived is not None
    try:
        pages = PdfReader(arrived).pages
        assert len(pages) == draft.pages
        assert all(_sharp(arrived, number, page) for number, page in enumerate(pages, start=1))
    finally:
        arrived.unlink()


def _finished(path: Path | None) -> bool:
    """cups-pdf writes the file in place; it is done once it reads as a whole PDF."""
    if path is None:
        return False
    try:
        return len(PdfReader(path).pages) > 0
    except Exception:
        return False


def _sharp(pdf: Path, number: int, page: object) -> bool:
    """Vector text on the page, or its images at printing resolution or finer."""
    text = subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Discharge" in text or "summary" in text.lower():
        return True
    listing = subprocess.run(
        ["pdfimages", "-list", "-f", str(number), "-l", str(number), str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[2:]
    resolutions = [int(columns[12]) for line in listing if len(columns := line.split()) > 13]
    return bool(resolutions) and min(resolutions) >= MIN_DPI
