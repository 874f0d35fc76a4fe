"""The command line: no command opens the app; sub-commands do headless work on the services.

Every failure is one sentence on stderr naming the field or record, with a non-zero exit
status; a database URL is only ever shown with its password masked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from backclinic.about import ShowVersion

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CommandFailed(Exception):
    """A command could not do its work; the message is the sentence shown to the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sentence = message[0].upper() + message[1:]
        self.exit(EXIT_USAGE, f"{self.prog}: {sentence.rstrip('.')}.\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="main.py",
        description="BackClinic: integrative acupuncture and physical therapy for back pain.",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: $BACKCLINIC_DATABASE_URL, else a SQLite file in the "
        "user data folder)",
    )
    parser.add_argument("--version", action=ShowVersion)
    commands = parser.add_subparsers(dest="command", metavar="command")

    demo = commands.add_parser("demo", help="fill the database with a realistic demo clinic")
    demo.add_argument("--patients", type=_positive_int, default=500, metavar="N")
    demo.add_argument("--seed", type=int, default=7)

    case_import = commands.add_parser("import", help="import case files (backclinic-case/1)")
    case_import.add_argument("files", nargs="+", metavar="CASE.json")
    case_import.add_argument(
        "--update", action="store_true", help="replace the record of an MRN that already exists"
    )

    export = commands.add_parser("export", help="export one patient's case file")
    export.add_argument("mrn")
    export.add_argument("--format", choices=["json"], default="json")
    export.add_argument("--out", required=True, metavar="FILE")

    plan = commands.add_parser("plan", help="build a plan from the latest intake")
    plan.add_argument("mrn")
    plan.add_argument(
        "--recommend",
        action="store_true",
        required=True,
        help="use the protocol's recommendation unchanged",
    )
    plan.add_argument("--start", type=_iso_date, metavar="YYYY-MM-DD")

    print_ = commands.add_parser("print", help="print a plan or discharge summary to a PDF file")
    print_.add_argument("document", choices=("plan", "discharge"))
    print_.add_argument("mrn")
    print_.add_argument("--out", required=True, metavar="FILE.pdf")

    audit = commands.add_parser("audit", help="check the audit trail's hash chain")
    audit.add_argument("action", choices=["verify"])

    backup = commands.add_parser("backup", help="write a checked backup of the whole database")
    backup.add_argument("file", metavar="FILE")
    restore = commands.add_parser("restore", help="replace all data with a backup's")
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--yes", action="store_true", help="replace all data without asking")
    return parser


def _run_demo(arguments: argparse.Namespace, services: object) -> str:
    from backclinic.services.bundle import Services

    assert isinstance(services, Services)
    summary = services.demo.fill(patients=arguments.patients, seed=arguments.seed)
    return summary.describe()


def _run_import(arguments: argparse.Namespace, services: object) -> str:
    from backclinic.services.bundle import Services

    assert isinstance(services, Services)
    actor = services.clinic.system_actor()
    lines = []
    for path in arguments.files:
        result = services.cases.import_file(actor, path, update=arguments.update)
        lines.append(result.describe())
    return "\n".join(lines)


def _run_export(arguments: argparse.Namespace, services: object) -> str:
    from backclinic.services.bundle import Services

    assert isinstance(services, Services)
    actor = services.clinic.system_actor()
    written = services.cases.export_file(actor, arguments.mrn, arguments.out)
    return f"Exported {arguments.mrn} to {written}."


def _run_plan(arguments: argparse.Namespace, services: object) -> str:
    from backclinic.services.bundle import Services

    assert isinstance(services, Services)
    actor = services.clinic.system_actor()
    created = services.plans.create_recommended(actor, arguments.mrn, start=arguments.start)
    return created.describe()


def _run_print(arguments: argparse.Namespace, services: object) -> str:
    from backclinic.services.bundle import Services

    assert isinstance(services, Services)
    out = Path(arguments.out)
    # Checked before printing: a printed document is kept and audited as handed over.
    if not out.parent.is_dir():
        raise CommandFailed(f"The folder {out.parent} does not exist; nothing was printed.")
    actor = services.clinic.system_actor()
    patient = services.patients.by_mrn(arguments.mrn)
    if arguments.document == "plan":
        stored = services.documents.print_plan_summary(actor, patient.id)
    else:
        stored = services.documents.print_discharge_summary(actor, patient.id)
    services.documents.write_pdf(actor, stored.id, out)
    pages = f"{stored.pages} page{'s' if stored.pages != 1 else ''}"
    return f"Printed the {stored.title.lower()} of {arguments.mrn} to {out} ({pages})."


def _run_audit(arguments: argparse.Namespace, services: object) -> str:
    from backclinic.services.bundle import Services

    assert isinstance(services, Services)
    result = services.audit.verify()
    if not result.ok:
        raise CommandFailed(result.describe())
    return result.describe()


def _run_backup(arguments: argparse.Namespace, services: object) -> str:
    from backclinic.services.bundle import Services

    assert isinstance(services, Services)
    return services.backups.backup(services.clinic.system_actor(), arguments.file).describe()


def _run_restore(arguments: argparse.Namespace, services: object) -> str:
    from backclinic.services.bundle import Services

    assert isinstance(services, Services)
    actor = services.clinic.system_actor()
    return services.backups.restore(actor, arguments.file, confirm=arguments.yes).describe()


COMMANDS: dict[str, Callable[[argparse.Namespace, object], str]] = {
    "demo": _run_demo,
    "import": _run_import,
    "export": _run_export,
    "plan": _run_plan,
    "print": _run_print,
    "audit": _run_audit,
    "backup": _run_backup,
    "restore": _run_restore,
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command is None:
        from backclinic.app import run_app

        return run_app(arguments.database, list(sys.argv[:1]))
    return _run_headless(arguments)


def _run_headless(arguments: argparse.Namespace) -> int:
    from backclinic.db.database import open_database
    from backclinic.db.engine import DatabaseUnavailable, resolve_database_url
    from backclinic.db.migrate import SchemaTooNew
    from backclinic.services.bundle import build_services
    from backclinic.services.errors import ServiceError

    try:
        database = open_database(resolve_database_url(arguments.database))
    except (DatabaseUnavailable, SchemaTooNew) as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    try:
        output = COMMANDS[arguments.command](arguments, build_services(database.session_factory))
    except (ServiceError, CommandFailed) as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    finally:
        database.engine.dispose()
    if output:
        print(output)
    return EXIT_OK
