from __future__ import annotations

import threading

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from backclinic.services.bundle import Services
from backclinic.services.context import Actor
from backclinic.services.patients import Patient
from backclinic.ui.patient_list import PatientListView, PatientTableModel
from tests.actors import COMMAND_LINE
from tests.services.test_plans import grace
from tests.ui.conftest import person


def shown_names(model: PatientTableModel) -> list[str]:
    return [
        f"{model.index(row, 0).data()}, {model.index(row, 1).data()}"
        for row in range(model.rowCount())
    ]


def test_the_patient_model_passes_the_qt_model_tester_while_paging(
    qtmodeltester, services: Services, registry: list[Patient]
) -> None:
    model = PatientTableModel(services, COMMAND_LINE)
    model.page_size = 2
    model.search("")
    qtmodeltester.check(model)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    qtmodeltester.check(model)
    assert model.rowCount() == len(registry)


def test_columns_show_names_birth_date_age_and_mrn_under_their_headers(
    services: Services, registry: list[Patient]
) -> None:
    model = PatientTableModel(services, COMMAND_LINE)
    model.search("A-1001")
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == [
        "Family name",
        "Given name",
        "Date of birth",
        "Age",
        "MRN",
        "Status",
        "Next visit",
    ]
    row = [model.index(0, column).data() for column in range(model.columnCount())]
    age = str(registry[0].age(services.patients.today()))
    assert row == ["Rivera", "Ana", "1980-03-14", age, "A-1001", "No plan yet", ""]


def test_pages_arrive_as_the_view_fetches_more_in_name_order(
    services: Services, registry: list[Patient]
) -> None:
    model = PatientTableModel(services, COMMAND_LINE)
    model.page_size = 2
    model.search("")
    assert model.rowCount() == 2
    assert model.canFetchMore(QModelIndex())
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert shown_names(model) == [
        "Lee, Lee",
        "Nakamura, Ken",
        "Okafor, Ada",
        "Rivas, Tomás",
        "Rivera, Ana",
    ]


def test_a_patient_matching_on_two_terms_is_listed_once_across_pages(
    services: Services, registry: list[Patient]
) -> None:
    model = PatientTableModel(services, COMMAND_LINE)
    model.page_size = 1
    model.search("lee")
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert shown_names(model) == ["Lee, Lee"]


def test_archived_patients_are_listed_only_when_asked_for(
    qtbot: QtBot, services: Services, actor: Actor, registry: list[Patient]
) -> None:
    rivera = registry[0]
    services.patients.archive(actor, rivera.id, rivera.version)
    view = PatientListView(services, actor)
    qtbot.addWidget(view)
    view.search_edit.setText("rivera")
    qtbot.waitUntil(
        lambda: (
            view.count_label.text()
            == "No patients match: check the spelling, or search by MRN or date of birth, "
            "or tick Include archived."
        )
    )
    view.include_archived.setChecked(True)
    qtbot.waitUntil(lambda: view.count_label.text() == "1 patient")
    assert shown_names(view.model) == ["Rivera, Ana"]


def test_typing_narrows_the_list_after_a_short_pause(
    qtbot: QtBot, services: Services, registry: list[Patient]
) -> None:
    view = PatientListView(services, COMMAND_LINE)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.count_label.text() == "5 patients")
    qtbot.keyClicks(view.search_edit, "riv")
    assert view.model.rowCount() == 5, "the search waits for typing to pause"
    qtbot.waitUntil(lambda: view.model.rowCount() == 2)
    assert shown_names(view.model) == ["Rivas, Tomás", "Rivera, Ana"]
    qtbot.keyClicks(view.search_edit, "xx")
    qtbot.waitUntil(lambda: view.count_label.text().startswith("No patients match: check"))


def test_a_date_of_birth_finds_the_patient_born_that_day(
    qtbot: QtBot, services: Services, registry: list[Patient]
) -> None:
    view = PatientListView(services, COMMAND_LINE)
    qtbot.addWidget(view)
    view.search_edit.setText("1975-07-02")
    qtbot.waitUntil(lambda: shown_names(view.model) == ["Nakamura, Ken"])


def test_down_arrow_moves_into_the_table_and_enter_opens_the_selected_patient(
    qtbot: QtBot, services: Services, registry: list[Patient]
) -> None:
    view = PatientListView(services, COMMAND_LINE)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.focus_search()
    qtbot.keyClicks(view.search_edit, "riv")
    qtbot.waitUntil(lambda: view.model.rowCount() == 2)
    qtbot.keyClick(view.search_edit, Qt.Key.Key_Down)
    assert view.table.hasFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    with qtbot.waitSignal(view.patient_opened) as opened:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened.args == [registry[0].id]


def test_enter_in_the_search_box_opens_the_first_match_without_waiting(
    qtbot: QtBot, services: Services, registry: list[Patient]
) -> None:
    view = PatientListView(services, COMMAND_LINE)
    qtbot.addWidget(view)
    qtbot.keyClicks(view.search_edit, "okaf")
    with qtbot.waitSignal(view.patient_opened) as opened:
        qtbot.keyClick(view.search_edit, Qt.Key.Key_Return)
    assert opened.args == [registry[3].id]


def test_double_clicking_a_row_opens_that_patient(
    qtbot: QtBot, services: Services, registry: list[Patient]
) -> None:
    view = PatientListView(services, COMMAND_LINE)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == len(registry))
    rect = view.table.visualRect(view.model.index(1, 0))
    # A real double-click is a click followed by a double-click event on the same spot.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(view.patient_opened) as opened:
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [registry[2].id]


def test_an_empty_registry_says_so(qtbot: QtBot, services: Services, actor: Actor) -> None:
    view = PatientListView(services, actor)
    qtbot.addWidget(view)
    qtbot.waitUntil(
        lambda: (
            view.count_label.text()
            == "No patients registered yet: add the first with Patient › New patient (Ctrl+N)."
        )
    )
    services.patients.register(actor, person())
    view.reload()
    assert view.count_label.text() == "Searching…"
    qtbot.waitUntil(lambda: view.count_label.text() == "1 patient")


def test_the_search_runs_off_the_gui_thread_and_the_count_line_says_so_meanwhile(
    qtbot: QtBot, services: Services, registry: list[Patient], monkeypatch
) -> None:
    searched_on: list[threading.Thread] = []
    release = threading.Event()
    search = services.patients.search

    def slow_search(*args, **kwargs):
        searched_on.append(threading.current_thread())
        release.wait(2)
        return search(*args, **kwargs)

    monkeypatch.setattr(services.patients, "search", slow_search)
    view = PatientListView(services, COMMAND_LINE)
    qtbot.addWidget(view)
    assert view.count_label.text() == "Searching…"
    release.set()
    qtbot.waitUntil(lambda: view.count_label.text() == "5 patients")
    assert searched_on and threading.main_thread() not in searched_on


def test_the_list_pages_past_the_first_hundred_and_the_count_line_tells_the_truth(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    for number in range(130):
        services.patients.register(
            actor, person(family_name=f"Page{number:03d}", mrn=f"P-{number:03d}")
        )
    view = PatientListView(services, actor)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() == 100)
    assert view.count_label.text() == "Showing 100 of 130 patients; scroll down for more."
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() == 130)
    assert view.count_label.text() == "130 patients"
    assert view.model.index(129, 0).data() == "Page129"


def test_each_row_says_where_the_patient_stands(
    qtbot: QtBot, services: Services, actor: Actor
) -> None:
    treated = grace(services, actor)
    services.plans.create_recommended(actor, "CASE-0045", start=services.patients.today())
    resting = services.patients.register(actor, person(family_name="Zed", mrn="Z-1"))
    gone = services.patients.register(actor, person(family_name="Young", mrn="Y-1"))
    services.patients.archive(actor, gone.id, expected_version=gone.version)
    view = PatientListView(services, actor)
    qtbot.addWidget(view)
    view.include_archived.setChecked(True)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3)
    status = {
        view.model.patient_at(row).id: (
            view.model.index(row, 5).data(),
            view.model.index(row, 6).data(),
        )
        for row in range(3)
    }
    plan = services.plans.active_plan(actor, treated)
    assert plan is not None
    assert status[treated] == ("Phase 1: Calm and correct", plan.visits[0].visit_date.isoformat())
    assert status[resting.id] == ("No plan yet", "")
    assert status[gone.id] == ("Archived", "")
