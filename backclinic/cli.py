"""The command line: no command opens the app; sub-commands do headless work on the services.

Every failure is one sentence on stderr naming the field or record, with a non-zero exit
status (1 bad input or a refused operation, 2 the database cannot be used, 3 the account's
role does not allow it); a database URL is only ever shown with its password masked.

A command runs as the account named by ``--user`` (signed in with $BACKCLINIC_PASSWORD or a
hidden prompt), else as the command-line account, which the audit trail names as such.
Passwords are never arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from backclinic.reports.renderer import DocumentRenderer
    from backclinic.services.bundle import Services
    from backclinic.services.context import Actor

from backclinic.about import ShowVersion

EXIT_OK = 0
EXIT_FAILED = 1
# A usage error is bad input, like any other.
EXIT_USAGE = EXIT_FAILED
EXIT_DATABASE_UNUSABLE = 2
EXIT_NOT_ALLOWED = 3

PASSWORD_VARIABLE = "BACKCLINIC_PASSWORD"
NEW_PASSWORD_VARIABLE = "BACKCLINIC_NEW_PASSWORD"
FORCE_HELP = "replace the file if it already exists"
PASSWORD_ON_COMMAND_LINE = (
    "Warning: the database password given with --database is visible to every user of this "
    "computer in the process list; set BACKCLINIC_DATABASE_URL or use a ~/.pgpass file instead."
)


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
    parser.add_argument(
        "--user",
        metavar="USER",
        help=f"run as this account, with its role (password from ${PASSWORD_VARIABLE}, else "
        "asked for); without it, commands run as the command-line account",
    )
    parser.add_argument("--version", action=ShowVersion)
    commands = parser.add_subparsers(dest="command", metavar="command")

    demo = commands.add_parser("demo", help="fill the database with a realistic demo clinic")
    demo.add_argument("--patients", type=_positive_int, default=500, metavar="N")
    demo.add_argument("--seed", type=int, default=7)

    case_import = commands.add_parser("import", help="import case files (backclinic-case/1)")
    case_import.add_argument("files", nargs="+", metavar="CASE.json")
    already = case_import.add_mutually_exclusive_group()
    already.add_argument(
        "--update", action="store_true", help="replace the record of an MRN that already exists"
    )
    case_import.add_argument(
        "--force",
        action="store_true",
        help="with --update: replace details changed on record since the file was exported",
    )
    already.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave an MRN that already exists as it is (to rerun a batch that stopped)",
    )

    export = commands.add_parser("export", help="export one patient's case file")
    export.add_argument("mrn")
    export.add_argument("--format", choices=["json"], default="json")
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--force", action="store_true", help=FORCE_HELP)

    plan = commands.add_parser("plan", help="build a plan from the latest intake")
    plan.add_argument("mrn")
    plan.add_argument(
        "--recommend",
        action="store_true",
        required=True,
        help="use the protocol's recommendation unchanged",
    )
    plan.add_argument("--start", type=_iso_date, metavar="YYYY-MM-DD")
    plan.add_argument(
        "--acknowledge-points",
        action="store_true",
        help="acknowledge the planned points a precaution allows only when acknowledged "
        "(pregnancy: lumbosacral and lower abdominal points, needled gently)",
    )

    print_ = commands.add_parser(
        "print", help="print a plan or discharge summary to a PDF file or a printer"
    )
    print_.add_argument("document", choices=("plan", "discharge"))
    print_.add_argument("mrn")
    where = print_.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="FILE.pdf")
    where.add_argument(
        "--printer",
        metavar="NAME",
        help="send it to this system printer instead, printed the way the window prints",
    )
    print_.add_argument("--force", action="store_true", help=FORCE_HELP)
    print_.add_argument(
        "--draw-apart",
        action="store_true",
        help="draw the document in a separate process, as the window does (a check that an "
        "installed app can)",
    )

    audit = commands.add_parser("audit", help="check the audit trail's hash chain")
    audit.add_argument("action", choices=["verify"])

    backup = commands.add_parser("backup", help="write a checked backup of the whole database")
    backup.add_argument("file", metavar="FILE")
    backup.add_argument("--force", action="store_true", help=FORCE_HELP)
    restore = commands.add_parser("restore", help="replace all data with a backup's")
    restore.add_argument("file", metavar="FILE")
    restore.add_argument("--yes", action="store_true", help="replace all data without asking")

    clinic = commands.add_parser("clinic", help="set up the clinic")
    clinic_actions = clinic.add_subparsers(dest="action", metavar="action", required=True)
    setup = clinic_actions.add_parser(
        "setup",
        help=f"set up a new clinic and its administrator (password from ${PASSWORD_VARIABLE}, "
        "else asked for)",
    )
    setup.add_argument("--name", required=True, metavar="NAME", help="the clinic's name")
    setup.add_argument("--admin", required=True, metavar="USER", help="the admin's user name")
    setup.add_argument("--full-name", metavar="NAME", help="the admin's full name")
    settings = clinic_actions.add_parser(
        "set", help="change the clinic's details, opening days and hours, and closures"
    )
    settings.add_argument("--name", metavar="NAME", help="the clinic's name")
    settings.add_argument("--address", metavar="TEXT", help="the letterhead's address")
    settings.add_argument("--phone", metavar="TEXT", help="the letterhead's phone number")
    settings.add_argument("--email", metavar="TEXT", help="the letterhead's email address")
    settings.add_argument(
        "--open-days", metavar="DAYS", help="the days the clinic is open, e.g. mon,tue,wed,thu,fri"
    )
    settings.add_argument("--hours", metavar="HH:MM-HH:MM", help="opening hours, e.g. 08:00-18:00")
    settings.add_argument(
        "--closed",
        type=_iso_date,
        action="append",
        metavar="YYYY-MM-DD",
        help="a day the clinic is closed (repeat for each); replaces the list of closures",
    )
    settings.add_argument(
        "--no-closures", action="store_true", help="remove every closure from the list"
    )
    clinic_actions.add_parser("show", help="the clinic's details, opening days, hours, closures")

    accounts = commands.add_parser("accounts", help="clinician accounts (admins only)")
    account_actions = accounts.add_subparsers(dest="action", metavar="action", required=True)
    add = account_actions.add_parser(
        "add",
        help=f"add an account (its password from ${NEW_PASSWORD_VARIABLE}, else asked for)",
    )
    add.add_argument("username", metavar="USER")
    add.add_argument(
        "--role",
        required=True,
        metavar="ROLE",
        help="a role by code or by label, as the Accounts dialog offers them (for example "
        'front_desk or "Front desk")',
    )
    add.add_argument("--name", required=True, metavar="FULL_NAME", help="the person's full name")
    account_actions.add_parser("list", help="every account, active ones first")
    deactivate = account_actions.add_parser(
        "deactivate", help="stop an account signing in; its records stay attributed to it"
    )
    deactivate.add_argument("username", metavar="USER")
    return parser


def _role_labels() -> list[tuple[str, str]]:
    from backclinic.services.clinic import ROLE_LABELS

    return list(ROLE_LABELS.items())


def _role_code(text: str) -> str:
    """The role a user typed, by code or by label, in any case; else the text unchanged."""
    wanted = text.strip().casefold().replace(" ", "_")
    for code, label in _role_labels():
        if wanted in (code, label.casefold().replace(" ", "_")):
            return code
    return text.strip()


def _password(variable: str, prompt: str, *, confirm: bool) -> str:
    """A password from the environment, else asked for without echo (twice if new)."""
    given = os.environ.get(variable)
    if given is not None:
        return given
    try:
        password = getpass.getpass(prompt)
        if confirm and getpass.getpass("Type it again: ") != password:
            raise CommandFailed("The two passwords differ; nothing was changed.")
    except (EOFError, KeyboardInterrupt):
        raise CommandFailed(
            f"No password was given; set {variable} or type it when asked."
        ) from None
    return password


def _run_demo(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    summary = services.demo.fill(actor, patients=arguments.patients, seed=arguments.seed)
    return summary.describe()


def _run_import(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    # Each file is its own transaction: say so as each one commits, so that a batch
    # stopped by a bad file shows exactly which files are in (rerun with --skip-existing).
    for path in arguments.files:
        result = services.cases.import_file(
            actor,
            path,
            update=arguments.update,
            skip_existing=arguments.skip_existing,
            force=arguments.force,
        )
        for notice in result.notices:
            _say(f"{os.path.basename(path)}: {notice}", error=True)
        _say(result.describe())
    return ""


def _run_export(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    written = services.cases.export_file(actor, arguments.mrn, arguments.out, force=arguments.force)
    return f"Exported {arguments.mrn} to {written}."


def _run_plan(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    from backclinic.services.errors import ValidationFailed

    try:
        created = services.plans.create_recommended(
            actor, arguments.mrn, start=arguments.start, acknowledge=arguments.acknowledge_points
        )
    except ValidationFailed as error:
        needs = next(
            (m for m in error.by_field.values() if "needs your acknowledgement" in m), None
        )
        if needs is None:
            raise
        raise CommandFailed(
            f"{needs} To plan it, acknowledge the points with --acknowledge-points."
        ) from None
    return created.describe(lambda code: services.catalogue.label("interventions", code))


def _run_print(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    from backclinic.services.files import check_output

    if arguments.printer is not None:
        return _print_on_printer(arguments, services, actor)
    # Checked before printing: a printed document is kept and audited as handed over.
    out = check_output(
        arguments.out, force=arguments.force, protected=services.context.database_files()
    )
    patient = services.patients.by_mrn(actor, arguments.mrn)
    if arguments.document == "plan":
        stored = services.documents.print_plan_summary(actor, patient.id, destination=str(out))
    else:
        stored = services.documents.print_discharge_summary(actor, patient.id, destination=str(out))
    services.documents.write_pdf(actor, stored.id, out, force=arguments.force)
    pages = f"{stored.pages} page{'s' if stored.pages != 1 else ''}"
    return f"Printed the {stored.title.lower()} of {arguments.mrn} to {out} ({pages})."


def _print_on_printer(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    """Draft, then have the printing process find the printer, keep the document as sent
    there, and print it: the window's order, so nothing is kept for a printer not there."""
    from backclinic.ui.printing import PrinterChoice, PrintFailed, PrintJob, recorded_unprinted

    name = arguments.printer.strip()
    if not name:
        raise CommandFailed("--printer needs the name of a printer (lpstat -p lists them).")
    patient = services.patients.by_mrn(actor, arguments.mrn)
    documents = services.documents
    draft = (
        documents.draft_plan_summary(actor, patient.id)
        if arguments.document == "plan"
        else documents.draft_discharge_summary(actor, patient.id)
    )
    # No window to show a dialog on: the printing process needs no display.
    job = PrintJob(
        draft.title, draft.pages, preset=PrinterChoice(printer_name=name), platform="offscreen"
    )
    try:
        destination = job.choose()
        assert destination is not None, "a named printer has no dialog to cancel"
        stored = documents.keep_printed(actor, draft, destination=destination)
        try:
            pages = job.print(stored.pdf)
        except PrintFailed as error:
            raise CommandFailed(recorded_unprinted(error, destination)) from None
    except PrintFailed as error:
        raise CommandFailed(str(error)) from None
    finally:
        job.close()
    count = f"{pages} page{'s' if pages != 1 else ''}"
    return f"Printed the {stored.title.lower()} of {arguments.mrn} on {destination} ({count})."


def _run_audit(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    result = services.audit.verify(actor)
    if not result.ok:
        raise CommandFailed(result.describe())
    return result.describe()


def _run_backup(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    return services.backups.backup(actor, arguments.file, force=arguments.force).describe()


def _run_restore(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    return services.backups.restore(actor, arguments.file, confirm=arguments.yes).describe()


def _run_clinic(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    from backclinic.services.clinic import NewClinician

    if arguments.action in ("set", "show") and not services.clinic.is_set_up():
        raise CommandFailed("This clinic is not set up yet; run clinic setup first.")
    if arguments.action == "show":
        return services.clinic.settings().describe()
    if arguments.action == "set":
        return _change_clinic_settings(arguments, services, actor)
    # Checked before asking for a password that could not be used.
    if services.clinic.is_set_up():
        raise CommandFailed("This clinic has already been set up; nothing was changed.")
    password = _password(
        PASSWORD_VARIABLE, f"Password for the new administrator {arguments.admin}: ", confirm=True
    )
    admin = services.clinic.set_up(
        clinic_name=arguments.name,
        first_clinician=NewClinician(
            full_name=arguments.full_name or arguments.admin,
            username=arguments.admin,
            role="admin",
            password=password,
        ),
    )
    return (
        f"Set up {arguments.name.strip()} with the administrator {admin.full_name} "
        f"({admin.username})."
    )


_SETTING_OPTIONS = {"clinic_name": "--name", "clinic_days": "--open-days", "hours": "--hours"}


def _change_clinic_settings(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    from backclinic.services.clinic import weekday_numbers

    current = services.clinic.settings()
    clinic_days = current.clinic_days
    if arguments.open_days is not None:
        try:
            clinic_days = weekday_numbers(arguments.open_days)
        except ValueError as error:
            raise CommandFailed(f"--open-days: {error}.") from None
        if not clinic_days:
            raise CommandFailed("--open-days: name at least one day the clinic is open.")
    opens_at, closes_at = current.opens_at, current.closes_at
    if arguments.hours is not None:
        opens_at, _dash, closes_at = arguments.hours.partition("-")
        if not _dash:
            raise CommandFailed(
                f"--hours: expected opening and closing times as HH:MM-HH:MM, "
                f"got {arguments.hours!r}."
            )
    closed = current.closed_dates
    if arguments.no_closures:
        closed = ()
    if arguments.closed:
        closed = tuple(arguments.closed)
    from backclinic.services.errors import ValidationFailed

    try:
        changed = services.clinic.update_settings(
            actor,
            clinic_name=current.clinic_name if arguments.name is None else arguments.name,
            address=current.address if arguments.address is None else arguments.address,
            phone=current.phone if arguments.phone is None else arguments.phone,
            email=current.email if arguments.email is None else arguments.email,
            idle_lock_minutes=current.idle_lock_minutes,
            clinic_days=clinic_days,
            expected_version=current.version,
            logo_path=current.logo_path,
            opens_at=opens_at,
            closes_at=closes_at,
            closed_dates=closed,
        )
    except ValidationFailed as error:
        first = error.errors[0]
        option = _SETTING_OPTIONS.get(first.field)
        raise CommandFailed(f"{option}: {first.message}" if option else first.message) from None
    return "Saved the clinic's settings.\n" + changed.describe()


def _run_accounts(arguments: argparse.Namespace, services: Services, actor: Actor) -> str:
    from backclinic.services.clinic import NewClinician

    if arguments.action == "list":
        lines = []
        for account in services.accounts.accounts(actor):
            state = "active" if account.active else "deactivated"
            if account.locked_until is not None:
                state += ", locked"
            lines.append(f"{account.username}\t{account.full_name}\t{account.role_label}\t{state}")
        return "\n".join(lines)
    if arguments.action == "add":
        from backclinic.services.permissions import Permission, require

        # The role is checked first, so a refused caller is never asked for a password.
        if not services.accounts.may_manage(actor):
            require(actor, Permission.MANAGE_ACCOUNTS)
        password = _password(
            NEW_PASSWORD_VARIABLE, f"Password for {arguments.username}: ", confirm=True
        )
        created = services.accounts.create(
            actor,
            NewClinician(
                full_name=arguments.name,
                username=arguments.username,
                role=_role_code(arguments.role),
                password=password,
            ),
        )
        return f"Added {created.full_name} ({created.username}) as {created.role_label.lower()}."
    wanted = arguments.username.strip()
    found = next((a for a in services.accounts.accounts(actor) if a.username == wanted), None)
    if found is None:
        raise CommandFailed(f"No account has the user name {wanted}.")
    if not found.active:
        return f"{found.full_name} ({found.username}) was already deactivated."
    changed = services.accounts.deactivate(actor, found.id, expected_version=found.version)
    return f"Deactivated {changed.full_name} ({changed.username}); their records stay theirs."


def _acting_account(arguments: argparse.Namespace, services: Services) -> Actor:
    """Who the command runs as: the signed-in --user, else the command-line account."""
    if arguments.user is None:
        return services.clinic.system_actor()
    password = _password(PASSWORD_VARIABLE, f"Password for {arguments.user}: ", confirm=False)
    return services.clinic.sign_in(arguments.user, password).as_actor()


COMMANDS: dict[str, Callable[[argparse.Namespace, Services, Actor], str]] = {
    "demo": _run_demo,
    "import": _run_import,
    "export": _run_export,
    "plan": _run_plan,
    "print": _run_print,
    "audit": _run_audit,
    "backup": _run_backup,
    "restore": _run_restore,
    "clinic": _run_clinic,
    "accounts": _run_accounts,
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command is None:
        from backclinic.app import run_app

        return run_app(arguments.database, list(sys.argv[:1]))
    return _run_headless(arguments)


def _say(text: object, *, error: bool = False) -> None:
    """Print for a person: names and paths from files may hold terminal escapes."""
    from backclinic.domain.untrusted_text import escape_controls

    print(escape_controls(str(text)), file=sys.stderr if error else sys.stdout, flush=True)


def _warn_of_password_in(url: str | None) -> None:
    if not url:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        has_password = make_url(url).password is not None
    except (ArgumentError, ValueError):
        credentials, at, _host = url.rpartition("@")
        has_password = bool(at) and ":" in credentials.rpartition("//")[2]
    if has_password:
        _say(PASSWORD_ON_COMMAND_LINE, error=True)


def _renderer(arguments: argparse.Namespace) -> DocumentRenderer | None:
    """The command line draws documents in its own process, unless asked to draw apart."""
    if not getattr(arguments, "draw_apart", False):
        return None
    from backclinic.reports.renderer import ChildProcessRenderer

    return ChildProcessRenderer()


def _run_headless(arguments: argparse.Namespace) -> int:
    from backclinic.db.database import open_database
    from backclinic.db.engine import DatabaseUnavailable, resolve_database_url
    from backclinic.db.migrate import SchemaTooNew
    from backclinic.services.bundle import build_services
    from backclinic.services.errors import PermissionDenied, ServiceError

    _warn_of_password_in(arguments.database)
    try:
        database = open_database(resolve_database_url(arguments.database))
    except (DatabaseUnavailable, SchemaTooNew) as error:
        _say(error, error=True)
        return EXIT_DATABASE_UNUSABLE
    if database.read_only:
        _say(database.describe_access(), error=True)
    try:
        services = build_services(database.session_factory, renderer=_renderer(arguments))
        actor = _acting_account(arguments, services)
        output = COMMANDS[arguments.command](arguments, services, actor)
    except PermissionDenied as error:
        print(error, file=sys.stderr)
        return EXIT_NOT_ALLOWED
    except (ServiceError, CommandFailed) as error:
        _say(error, error=True)
        return EXIT_FAILED
    finally:
        database.engine.dispose()
    if output:
        _say(output)
    return EXIT_OK
