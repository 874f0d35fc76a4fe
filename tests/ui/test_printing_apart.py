"""The window prints in a child process: Qt's print support never enters its memory.

The child shows the system print dialog and prints only once the window has kept the
document; a print whose preview closes is stopped, and every failure is one sentence.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from backclinic.ui.printing import PrinterChoice, PrintFailed, PrintJob
from tests.fresh_python import last_json, run_python

# Started as a script, as `python main.py` is: the spawned children re-import it as
# __mp_main__, so its imports sit under the __main__ guard.
WINDOW = """
import json
import sys


def main(url: str, output: str) -> None:
    from PySide6.QtWidgets import QApplication

    from backclinic.launcher import open_clinic
    from backclinic.ui.documents_tab import DocumentsTab
    from backclinic.ui.printing import PrinterChoice
    from tests.services.test_documents import set_up_clinic, treated_patient

    app = QApplication(sys.argv[:1])
    services = open_clinic(url).services
    actor = set_up_clinic(services)
    patient_id = treated_patient(services, actor)
    tab = DocumentsTab(services, actor, patient_id)
    tab.tasks.synchronous = True
    tab.show()
    # What the system dialog would have chosen: a printer writing a PDF file.
    tab.printer = PrinterChoice(output_file=output)
    tab.discharge_button.click()
    tab.preview.print_button.click()
    app.processEvents()
    print(json.dumps({
        "print_support": sorted(n for n in sys.modules if n.startswith("PySide6.QtPrint")),
        "status": tab.preview.status.text(),
        "listed": tab.model.rowCount(),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
"""


def test_printing_from_the_windows_preview_leaves_qt_print_support_out_of_its_process(
    tmp_path: Path,
) -> None:
    script = tmp_path / "window.py"
    script.write_text(WINDOW)
    output = tmp_path / "printed.pdf"
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    report = last_json(run_python(str(script), url, str(output), cwd=tmp_path, timeout=240))
    assert report["print_support"] == [], "Qt's print support stays out of the window"
    assert report["status"] == f"Sent to PDF file {output}; kept in the patient's Documents tab."
    assert report["listed"] == 1
    assert len(PdfReader(output).pages) >= 2


def test_the_printing_process_is_started_from_main_py_without_the_app() -> None:
    # The child imports backclinic.ui.printing by name; it must load neither Qt nor the app
    # until it is asked to print.
    probe = (
        "import sys; import backclinic.ui.printing; "
        "print(sorted(n for n in sys.modules if n.startswith(('PySide6', 'sqlalchemy', "
        "'backclinic.services', 'reportlab'))))"
    )
    assert run_python("-c", probe).strip() == "[]"


def plan_pdf() -> bytes:
    import io

    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Plan summary")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def test_a_print_whose_dialog_is_left_open_is_stopped_when_closed() -> None:
    job = PrintJob("Plan summary", 2, platform="offscreen")
    outcome: list[object] = []

    def choose() -> None:
        try:
            outcome.append(job.choose())
        except PrintFailed as error:
            outcome.append(error)

    chooser = threading.Thread(target=choose)
    chooser.start()
    # The dialog is open (on the offscreen platform nobody can answer it) until closed.
    time.sleep(3)
    assert outcome == [] and chooser.is_alive()
    process = job._process
    assert process is not None and process.is_alive()
    job.close()
    chooser.join(timeout=20)
    assert not chooser.is_alive()
    [error] = outcome
    assert str(error) == (
        "The plan summary was not printed: the print dialog closed before a printer was chosen."
    )


def test_a_printer_that_cannot_be_opened_is_told_in_one_sentence(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder" / "plan.pdf"
    job = PrintJob("Plan summary", 1, preset=PrinterChoice(output_file=str(missing)))
    try:
        assert job.choose() == f"PDF file {missing}"
        with pytest.raises(PrintFailed) as raised:
            job.print(plan_pdf())
    finally:
        job.close()
    assert str(raised.value) == (
        "The plan summary was not printed: the printer could not be opened."
    )
    assert not missing.exists()


def test_pages_the_printer_cannot_read_are_told_and_nothing_is_printed(tmp_path: Path) -> None:
    output = tmp_path / "plan.pdf"
    job = PrintJob("Plan summary", 1, preset=PrinterChoice(output_file=str(output)))
    try:
        job.choose()
        with pytest.raises(PrintFailed) as raised:
            job.print(b"not a PDF")
    finally:
        job.close()
    assert str(raised.value) == (
        "The plan summary was not printed: its pages could not be read for the printer."
    )
    assert not output.exists()


def test_a_job_called_off_before_its_dialog_starts_no_process() -> None:
    job = PrintJob("Discharge summary", 3)
    job.close()
    with pytest.raises(PrintFailed) as raised:
        job.choose()
    assert str(raised.value) == "The discharge summary was not printed: the print was called off."
    assert job._process is None


def test_printing_before_a_printer_is_chosen_is_refused() -> None:
    job = PrintJob("Plan summary", 1)
    with pytest.raises(PrintFailed) as raised:
        job.print(b"%PDF")
    assert str(raised.value) == "The plan summary was not printed: no printer was chosen."
