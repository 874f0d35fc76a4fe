"""Screenshots for the README: the demo clinic driven under the offscreen platform.

Writes PNGs of the Today list, the patient list, a patient's plan, the session form, the
progress chart and a printed page (a plan summary rendered by the documents service,
rasterised by pdftoppm) to docs/screenshots/. Run with `make screenshots`; everything else
it writes (database, audit key, remembered user name) lives in a temporary folder, never
the user's own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOW_SIZE = (1366, 768)
# A Monday morning, so the Today list has the day's visits and every phase has patients.
MORNING = dt.datetime(2026, 3, 9, 8, 30).astimezone()
DEMO_PATIENTS = 60
PAGE_DPI = 70


def wait_until(app: object, done: Callable[[], bool], *, seconds: float = 20.0) -> None:
    """Run the event loop until ``done`` (background reads report through it)."""
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen did not finish loading")
        app.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    arguments = parser.parse_args()
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    if shutil.which("pdftoppm") is None:
        print("pdftoppm (poppler-utils) is needed for the printed page.", file=sys.stderr)
        return 1

    scratch = Path(tempfile.mkdtemp(prefix="backclinic-screenshots-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["BACKCLINIC_KEY_DIR"] = str(scratch / "keys")
    os.environ["BACKCLINIC_WORKSTATION_SETTINGS"] = str(scratch / "workstation.ini")
    sys.path.insert(0, str(ROOT))

    from PySide6.QtWidgets import QApplication

    from backclinic.db.database import open_database
    from backclinic.services.bundle import build_services
    from backclinic.services.demo import DEMO_PASSWORD
    from backclinic.ui.main_window import MainWindow
    from backclinic.ui.session_dialog import SessionDialog

    app = QApplication(sys.argv[:1])
    database = open_database(f"sqlite:///{scratch / 'clinic.db'}")
    services = build_services(database.session_factory, clock=lambda: MORNING)
    summary = services.demo.fill(services.clinic.system_actor(), patients=DEMO_PATIENTS)
    acupuncturist = next(a for a in summary.clinicians if a.role == "acupuncturist")
    clinician = services.clinic.sign_in(acupuncturist.username, DEMO_PASSWORD)
    actor = clinician.as_actor()

    window = MainWindow(services, clinician, database_label="demo clinic (SQLite)")
    window.resize(*WINDOW_SIZE)
    window.show()
    wait_until(app, lambda: not window.day_view.loading and window.day_view.model.rowCount() > 0)
    written = [out / "today.png"]
    window.grab().save(str(written[-1]))

    window.tabs.setCurrentWidget(window.patients)
    wait_until(app, lambda: not window.patients.model.busy and window.patients.model.rowCount() > 0)
    written.append(out / "patients.png")
    window.grab().save(str(written[-1]))
    window.tabs.setCurrentWidget(window.day_view)

    # The patient of the day's first visit whose plan is past its first phase, if any.
    visits = [window.day_view.model.visit(row) for row in range(window.day_view.model.rowCount())]
    chosen = next((v for v in visits if v and v.phase_number >= 2), visits[0])
    assert chosen is not None
    workspace = window.open_patient(chosen.patient_id)
    for name, file_name in (("Plan", "plan.png"), ("Progress", "progress.png")):
        page = workspace.tab(name)
        assert page is not None
        workspace.tabs.setCurrentWidget(page)
        wait_until(app, lambda page=page: not getattr(page, "loading", False))
        written.append(out / file_name)
        window.grab().save(str(written[-1]))

    dialog = SessionDialog(services, actor, chosen.patient_id, visit_id=chosen.visit_id)
    dialog.show()
    wait_until(app, dialog.isVisible)
    written.append(out / "session.png")
    dialog.grab().save(str(written[-1]))
    dialog.reject()

    document = services.documents.print_plan_summary(actor, chosen.patient_id)
    pdf = scratch / "plan-summary.pdf"
    pdf.write_bytes(services.documents.pdf(actor, document.id))
    page_stem = scratch / "printed"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(PAGE_DPI),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf,
            page_stem,
        ],
        check=True,
    )
    written.append(out / "printed-plan.png")
    shutil.copyfile(page_stem.with_suffix(".png"), written[-1])

    window.close()
    database.engine.dispose()
    shutil.rmtree(scratch, ignore_errors=True)
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
