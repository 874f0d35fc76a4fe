"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when
BACKCLINIC_TEST_DATABASE_URL names one), services over it, and a set-up clinic.

The schema is migrated with Alembic once per test session, not once per test: each SQLite
test gets a copy of the migrated file; on PostgreSQL (where the test account may not create
databases) the migrated schema is emptied between tests, and migrated afresh only when a test
changed it. Passwords are hashed with argon2's cheapest parameters; test_passwords.py checks
that the application itself ships the production ones. The shipped catalogue and protocol
are read once, not at every build_services.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2.profiles import CHEAPEST
from sqlalchemy import Engine, MetaData, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from backclinic.db.audit_chain import KEY_FOLDER_VARIABLE, guard_lifted
from backclinic.db.database import OpenDatabase, open_database
from backclinic.db.migrate import migrate_to_head
from backclinic.domain.catalogue import Catalogue, load_catalogue
from backclinic.domain.protocol import Protocol, default_protocol_path, load_protocol
from backclinic.services import bundle, passwords
from backclinic.services.bundle import Services, build_services
from backclinic.services.clinic import Clinician, NewClinician
from backclinic.services.context import Actor

TEST_DATABASE_VARIABLE = "BACKCLINIC_TEST_DATABASE_URL"
PASSWORD = "correct horse battery"
SQLITE_FILES = ("", "-wal", "-shm")

# What a test could change about the schema itself (a migration test downgrading it, say):
# when it differs from the freshly migrated one, the next test gets a rebuilt schema.
_SCHEMA_FINGERPRINT = text(
    """
    SELECT 'column', table_name || '.' || column_name || ':' || data_type
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL
    SELECT 'trigger', tgrelid::regclass::text || '.' || tgname
      FROM pg_trigger
      JOIN pg_class ON pg_class.oid = tgrelid
      JOIN pg_namespace ON pg_namespace.oid = relnamespace
     WHERE nspname = 'public' AND NOT tgisinternal
    UNION ALL
    SELECT 'index', indexname FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT 'function', proname
      FROM pg_proc JOIN pg_namespace ON pg_namespace.oid = pronamespace
     WHERE nspname = 'public'
    UNION ALL
    SELECT 'revision', version_num FROM alembic_version
    ORDER BY 1, 2
    """
)
_TABLES = text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")


class PostgresTemplate:
    """The shared PostgreSQL database, migrated once and emptied before each test.

    TRUNCATE ... RESTART IDENTITY, then the rows the migrations themselves wrote (the audit
    chain's identity) put back, leaves it as a fresh migration would, provided the previous
    test left the schema alone (checked by its fingerprint). The migration's audit key and
    anchor are kept beside the template and copied into each test's key folder.
    """

    def __init__(self, url: str, keys: Path) -> None:
        self.url = url
        self._keys = keys
        self._engine: Engine = create_engine(url, poolclass=NullPool)
        self._fingerprint: list[tuple[str, str]] | None = None
        self._tables: list[str] = []
        self._seeded: dict[str, list[dict[str, object]]] = {}
        self._truncatable = False

    def fresh(self) -> None:
        reused = False
        if self._truncatable and self._fingerprint == self._current_fingerprint():
            try:
                self._truncate()
                reused = True
            except DBAPIError:
                pass
        if not reused:
            self._rebuild()
        shutil.copytree(self._keys, Path(os.environ[KEY_FOLDER_VARIABLE]), dirs_exist_ok=True)

    def close(self) -> None:
        self._engine.dispose()

    def _current_fingerprint(self) -> list[tuple[str, str]] | None:
        try:
            with self._engine.connect() as connection:
                return [(kind, name) for kind, name in connection.execute(_SCHEMA_FINGERPRINT)]
        except DBAPIError:
            return None

    def _truncate(self) -> None:
        with self._engine.begin() as connection:
            # A connection a test left open would otherwise hold the lock forever.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            # The audit trail refuses TRUNCATE (migration 0005); its owner lifts that for
            # this one transaction, as restore does.
            listed = ", ".join(f'"{name}"' for name in self._tables)
            with guard_lifted(connection, "truncate"):
                connection.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
            if self._seeded:
                schema = MetaData()
                schema.reflect(bind=connection, only=list(self._seeded))
                for name, rows in self._seeded.items():
                    connection.execute(schema.tables[name].insert(), rows)

    def _rebuild(self) -> None:
        with self._engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        shutil.rmtree(self._keys, ignore_errors=True)
        migrated = create_engine(self.url, poolclass=NullPool)
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv(KEY_FOLDER_VARIABLE, str(self._keys))
                migrate_to_head(migrated)
        finally:
            migrated.dispose()
        with self._engine.connect() as connection:
            tables = [name for (name,) in connection.execute(_TABLES)]
            self._tables = [name for name in tables if name != "alembic_version"]
            self._seeded = {}
            for name in self._tables:
                rows = [
                    dict(row)
                    for row in connection.execute(text(f'SELECT * FROM "{name}"')).mappings()
                ]
                if rows:
                    self._seeded[name] = rows
        self._truncatable = bool(self._tables)
        self._fingerprint = self._current_fingerprint()


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker has a PostgreSQL database of its own (``<name>_gw0`` ...),
    created once by the test account (which then needs CREATEDB), since every test empties
    the schema it uses."""
    url = os.environ.get(TEST_DATABASE_VARIABLE)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker:
        os.environ[TEST_DATABASE_VARIABLE] = _worker_database(url, worker)


def _worker_database(url: str, worker: str) -> str:
    shared = make_url(url)
    name = f"{shared.database}_{worker}"
    engine = create_engine(shared, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            present = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not present:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return shared.set(database=name).render_as_string(hide_password=False)


# The longest tests, started first so that parallel workers (pytest-xdist, `make test`) each
# take one of them at once instead of one worker finishing alone on the last of them.
LONGEST_FIRST = (
    "tests/services/test_case_file_fuzz.py",
    "tests/crash/test_crash_safety.py",
    "tests/ui/test_one_course_everywhere.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "HASH_PARAMETERS", CHEAPEST)
        yield


@pytest.fixture(scope="session", autouse=True)
def shared_reference_data() -> Iterator[None]:
    # Frozen data, safe to share; a test that wants another protocol passes its own.
    shipped_catalogue = load_catalogue()
    shipped_protocol = load_protocol(default_protocol_path(), shipped_catalogue)

    def catalogue_once(resources: Path | None = None) -> Catalogue:
        return shipped_catalogue if resources is None else load_catalogue(resources)

    def protocol_once(path: Path, catalogue: Catalogue | None = None) -> Protocol:
        if path == default_protocol_path() and catalogue is shipped_catalogue:
            return shipped_protocol
        return load_protocol(path, catalogue)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bundle, "load_catalogue", catalogue_once)
        patch.setattr(bundle, "load_protocol", protocol_once)
        yield


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresTemplate]:
    template = PostgresTemplate(
        os.environ[TEST_DATABASE_VARIABLE], tmp_path_factory.mktemp("postgres-template-keys")
    )
    yield template
    template.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, copied for each test that needs a database."""
    path = tmp_path_factory.mktemp("template") / "clinic.db"
    # Migrating keys the audit chain: the template's key and anchor stay beside it, and go
    # with every copy (a copy whose key is missing is refused, as it should be).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_FOLDER_VARIABLE, str(_template_keys(path)))
        open_database(f"sqlite:///{path}").engine.dispose()
    return path


def _template_keys(template: Path) -> Path:
    return template.with_name("audit-keys")


def copy_sqlite(source: Path, target: Path) -> None:
    """A closed SQLite database (its WAL checkpointed, normally gone) copied file by file,
    with its audit key and anchor copied into this test's key folder."""
    for suffix in SQLITE_FILES:
        member = source.with_name(source.name + suffix)
        if member.exists():
            shutil.copy2(member, target.with_name(target.name + suffix))
    keys = _template_keys(source)
    if keys.is_dir():
        shutil.copytree(keys, Path(os.environ[KEY_FOLDER_VARIABLE]), dirs_exist_ok=True)


@pytest.fixture(autouse=True)
def audit_key_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's audit key and anchors in its own folder, never the user's config folder."""
    folder = tmp_path / "audit-keys"
    monkeypatch.setenv(KEY_FOLDER_VARIABLE, str(folder))
    return folder


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if os.environ.get(TEST_DATABASE_VARIABLE):
        template: PostgresTemplate = request.getfixturevalue("postgres_template")
        template.fresh()
        return template.url
    target = tmp_path / "clinic.db"
    copy_sqlite(request.getfixturevalue("sqlite_template"), target)
    return f"sqlite:///{target}"


@pytest.fixture
def database(database_url: str) -> Iterator[OpenDatabase]:
    opened = open_database(database_url)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def services(database: OpenDatabase) -> Services:
    return build_services(database.session_factory)


@pytest.fixture
def clinician(services: Services) -> Clinician:
    return services.clinic.set_up(
        clinic_name="Harbour Back Clinic",
        first_clinician=NewClinician(
            full_name="Mei Lin", username="mei", role="acupuncturist", password=PASSWORD
        ),
    )


@pytest.fixture
def actor(clinician: Clinician) -> Actor:
    return clinician.as_actor()
