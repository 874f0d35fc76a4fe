"""The workstation app: `make bundle`'s PyInstaller build runs the commands and the window.

One build (a few minutes) serves every check, so they are steps of one test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from backclinic import __version__
from backclinic.db.migrate import head_revision
from tests.printing import cups

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "backclinic.spec"
CASE = ROOT / "tests" / "cases" / "article-office-worker.json"
MAX_BUNDLE_MB = 150
UNUSED_QT_LIBRARIES = ("libQt6WebEngineCore", "libQt6Quick", "libQt6Qml", "libQt6Multimedia")


def folder_megabytes(folder: Path) -> float:
    """Size on disk as `du` counts it: each file once, symbolic links as nothing."""
    files = [path for path in folder.rglob("*") if path.is_file() and not path.is_symlink()]
    return sum(path.lstat().st_size for path in files) / 1024 / 1024


def missing_libraries(bundle: Path) -> set[str]:
    """Libraries some bundled binary needs that were left out of the bundle on purpose."""
    bundled = {path.name for path in bundle.rglob("*.so*")}
    needed: set[str] = set()
    for binary in bundle.rglob("*.so*"):
        if binary.is_symlink():
            continue
        dynamic = subprocess.run(
            ["readelf", "-d", str(binary)], capture_output=True, text=True, check=False
        ).stdout
        needed.update(
            line.split("[", 1)[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line
        )
    sys.path.insert(0, str(ROOT / "packaging"))
    from packaging_support import left_out

    return {name for name in needed - bundled if left_out(name)}


def run(program: Path, *arguments: str, environment: dict[str, str]) -> str:
    finished = subprocess.run(
        [str(program), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert finished.returncode == 0, f"{' '.join(arguments)}: {finished.stderr}"
    return finished.stdout


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("bundle")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(SPEC),
        ],
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    return work / "dist" / "BackClinic"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the CI workstation is Linux")
def test_the_bundle_runs_the_commands_and_opens_its_window_on_its_own(
    bundle: Path, tmp_path: Path
) -> None:
    program = bundle / "BackClinic"
    assert program.is_file()
    assert folder_megabytes(bundle) <= MAX_BUNDLE_MB
    libraries = {path.name for path in bundle.rglob("libQt6*")}
    assert not [name for name in libraries if name.startswith(UNUSED_QT_LIBRARIES)]
    assert missing_libraries(bundle) == set(), "nothing left in the bundle needs what was left out"
    assert not [path for path in bundle.rglob("*") if path.is_symlink() and not path.exists()]
    desktop = (bundle / "BackClinic.desktop").read_text()
    assert 'Exec="/opt/BackClinic/BackClinic"' in desktop
    assert (bundle / "_internal" / "resources" / "icons" / "backclinic.png").is_file()

    # Nothing from the source tree or its virtual environment may be reached.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment["QT_QPA_PLATFORM"] = "offscreen"
    environment["HOME"] = str(tmp_path / "home")
    version = run(program, "--version", environment=environment).splitlines()
    assert version[0] == f"BackClinic {__version__}"
    assert version[1] == f"Schema revision {head_revision()}"

    database = tmp_path / "clinic" / "clinic.db"
    url = f"sqlite:///{database}"

    def on_clinic(*arguments: str) -> str:
        """A command of the bundled program on the clinic's database."""
        return run(program, "--database", url, *arguments, environment=environment)

    # A clinic set up from the command line alone: printing needs its letterhead.
    environment["BACKCLINIC_PASSWORD"] = "bundle test password"
    on_clinic(
        "clinic",
        "setup",
        "--name",
        "Bundle Test Clinic",
        "--admin",
        "sam",
        "--full-name",
        "Sam Admin",
    )
    assert "CASE-0045" in on_clinic("import", str(CASE))
    on_clinic("plan", "CASE-0045", "--recommend")
    # The demo fills only a new (or demo) database: its own.
    demo_url = f"sqlite:///{tmp_path / 'demo' / 'demo.db'}"
    run(program, "--database", demo_url, "demo", "--patients", "3", environment=environment)
    pdf = tmp_path / "plan.pdf"
    printed = on_clinic("print", "plan", "CASE-0045", "--out", str(pdf))
    assert "Printed the plan summary of CASE-0045" in printed
    assert pdf.read_bytes().startswith(b"%PDF")
    # As the window draws: in a child process, which the bundled program itself becomes.
    apart = tmp_path / "plan-apart.pdf"
    printed = on_clinic("print", "plan", "CASE-0045", "--draw-apart", "--out", str(apart))
    assert "Printed the plan summary of CASE-0045" in printed
    assert apart.read_bytes().startswith(b"%PDF")
    assert len(PdfReader(apart).pages) == len(PdfReader(pdf).pages)
    # As the window prints: in a child process with Qt's print support, the bundled program
    # again. Everywhere, it answers for a printer that is not there; where CUPS and cups-pdf
    # are installed (CI), it prints on a queue of a private CUPS server too.
    refused = subprocess.run(
        [str(program), "--database", url, "print", "plan", "CASE-0045", "--printer", "Nowhere"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert refused.returncode == 1
    assert (
        refused.stderr == "The plan summary was not printed: there is no printer named Nowhere.\n"
    )
    if cups.missing() is None:
        with cups.private_cups_queue() as queue:
            started = time.time() - 1
            printed = run(
                program,
                "--database",
                url,
                "print",
                "plan",
                "CASE-0045",
                "--printer",
                queue,
                environment={**environment, "CUPS_SERVER": os.environ["CUPS_SERVER"]},
            )
            assert f"on printer {queue}" in printed
            printout = cups.delivered(started, "Plan summary")
            assert len(PdfReader(printout).pages) == 2
            printout.unlink()
    assert "Audit trail intact" in on_clinic("audit", "verify")

    # The window: the sign-in dialog opens and the services load behind it (the day's
    # automatic backup is their last step); the app keeps running until it is closed.
    started = subprocess.Popen(
        [str(program), "--database", url],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    backups = database.parent / "backups"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(backups.glob("backclinic-*")):
            assert started.poll() is None, started.communicate()[1]
            time.sleep(0.2)
        assert any(backups.glob("backclinic-*")), "the services loaded behind the sign-in"
        time.sleep(1)
        assert started.poll() is None, "the sign-in dialog waits for the clinician"
    finally:
        started.terminate()
        _out, errors = started.communicate(timeout=30)
    assert "Traceback" not in errors
