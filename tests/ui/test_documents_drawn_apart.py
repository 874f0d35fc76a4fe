"""The window draws its documents in a child process: reportlab never enters its memory.

Drawing loads reportlab, Pillow and two fonts (about 23 MB) that would stay resident in the
window for the rest of the day. Each test here starts a fresh interpreter, so what the test
run itself has imported does not count.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from backclinic.db.database import OpenDatabase
from backclinic.reports.renderer import ChildProcessRenderer
from backclinic.services.bundle import build_services
from backclinic.ui.documents_tab import DocumentsTab
from tests.fresh_python import ROOT, last_json, run_python
from tests.reports.test_renderer import explodes
from tests.services.test_documents import NOW, set_up_clinic, treated_patient

# Started as a script (as `python main.py` is), so the spawned child re-imports it as
# __mp_main__: its imports sit under the __main__ guard, as main.py's do.
WINDOW = """
import json
import sys
from pathlib import Path


def main(url: str, out: str) -> None:
    from backclinic.launcher import open_clinic
    from tests.services.test_documents import set_up_clinic, treated_patient

    services = open_clinic(url).services
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    # The test helpers' PDF reader (pypdf) brings Pillow with it; drafting must add none.
    before = set(sys.modules)
    draft = services.documents.draft_discharge_summary(actor, patient_id)
    loaded = sorted(
        name
        for name in sys.modules
        if name.startswith("reportlab") or (name.startswith("PIL") and name not in before)
    )
    # The same content drawn here, only now that the check is done.
    from backclinic.reports.renderer import draw

    here = draw(services.documents.discharge_summary(actor, patient_id))
    Path(out, "window.pdf").write_bytes(draft.pdf)
    Path(out, "here.pdf").write_bytes(here.pdf)
    print(json.dumps({"loaded": loaded, "pages": draft.pages, "here_pages": here.pages}))


if __name__ == "__main__":
    main(*sys.argv[1:])
"""


def pages_text(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_windows_discharge_summary_is_drawn_without_reportlab_in_its_process(
    tmp_path: Path,
) -> None:
    script = tmp_path / "window.py"
    script.write_text(WINDOW)
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    report = last_json(run_python(str(script), url, str(tmp_path), cwd=tmp_path, timeout=240))
    assert report["loaded"] == [], "reportlab and Pillow stay out of the window's process"
    window = (tmp_path / "window.pdf").read_bytes()
    here = (tmp_path / "here.pdf").read_bytes()
    assert window.startswith(b"%PDF") and window.rstrip().endswith(b"%%EOF")
    assert report["pages"] == report["here_pages"] == len(PdfReader(io.BytesIO(window)).pages)
    assert report["pages"] >= 2
    assert pages_text(window) == pages_text(here)
    assert (
        "Discharge summary" in pages_text(window)[0]
        or "treatment summary" in (pages_text(window)[0])
    )


def test_the_child_re_importing_main_py_loads_neither_qt_nor_the_services() -> None:
    # What a spawned child does with the program it was started from (as __mp_main__).
    probe = (
        "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__mp_main__'); "
        "print(sorted(n for n in sys.modules if n.startswith(('PySide6', 'sqlalchemy', "
        "'backclinic.services', 'backclinic.ui', 'reportlab'))))"
    )
    assert run_python("-c", probe, str(ROOT / "main.py")).strip() == "[]"


def test_a_document_that_could_not_be_drawn_is_told_in_one_sentence(
    qtbot: QtBot, database: OpenDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = build_services(
        database.session_factory,
        clock=lambda: NOW,
        renderer=ChildProcessRenderer(draw=explodes),
    )
    actor = set_up_clinic(services)
    widget = DocumentsTab(services, actor, treated_patient(services, actor))
    widget.tasks.synchronous = True
    qtbot.addWidget(widget)
    warnings: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text, *a: warnings.append(text)
    )
    widget.discharge_button.click()
    assert warnings == [
        "The interim treatment summary could not be drawn: the drawing stopped with an error "
        "(ValueError: the logo is not an image)."
    ]
    assert widget.preview is None and widget.discharge_button.isEnabled()
    assert widget.model.rowCount() == 0
