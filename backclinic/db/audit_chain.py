"""The keyed audit chain's secrets and anchors, kept outside the database they protect.

Each audit entry carries an HMAC-SHA-256 of its fields and of the entry before it, under a
key that lives in a 0600 file in the user config folder, never in the database: someone who
can write the database but not read the key cannot forge or re-hash entries. The chain's
head (how many entries, and the last one's MAC) is also recorded beside the key, one file
per database, so that deleting the newest entries, or all of them, is seen by comparing the
table with that anchor. The database itself stores only the key's fingerprint and its own
random id (table audit_chain), which seeds the chain's first link.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import platformdirs
import sqlalchemy as sa
from sqlalchemy import Connection, inspect, text

from backclinic.db.models import UtcDateTime

if sys.platform != "win32":
    import fcntl

KEY_FOLDER_VARIABLE = "BACKCLINIC_KEY_DIR"
KEY_FILE_NAME = "audit.key"
HEADS_FOLDER_NAME = "audit-heads"
APP_NAME = "BackClinic"
KEY_BYTES = 32
LEGACY_GENESIS = "0" * 64


class AuditKeyError(RuntimeError):
    """The audit key this database was chained with is not available; one sentence."""


@dataclass(frozen=True)
class ChainIdentity:
    """What the database records about its chain: its own id and its key's fingerprint."""

    database_id: str
    key_id: str


@dataclass(frozen=True)
class ChainHead:
    """The newest entry known: how many entries the chain had, and that entry's MAC."""

    count: int
    mac: str

    def describe(self) -> str:
        return f"{self.count} entries, head {self.mac[:16]}"


def key_folder() -> Path:
    configured = os.environ.get(KEY_FOLDER_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def key_path() -> Path:
    return key_folder() / KEY_FILE_NAME


def fingerprint(key: bytes) -> str:
    """Names a key without revealing it (an HMAC of a fixed label under the key)."""
    return hmac.new(key, b"backclinic audit key id", hashlib.sha256).hexdigest()[:16]


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def _read_key(path: Path) -> bytes:
    try:
        text_value = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text_value)
    except (OSError, ValueError) as error:
        raise AuditKeyError(
            f"The audit key file {path} cannot be read or is not a BackClinic key ({error})."
        ) from error
    if len(key) != KEY_BYTES:
        raise AuditKeyError(f"The audit key file {path} is not a BackClinic key (wrong length).")
    return key


def local_key(*, create: bool) -> bytes | None:
    """This computer's audit key; a new one is made (0600, atomically) only when asked."""
    path = key_path()
    if path.exists():
        return _read_key(path)
    if not create:
        return None
    _private_folder(path.parent)
    partial = path.with_name(f".{KEY_FILE_NAME}.{secrets.token_hex(6)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link, not rename: it fails if another process made the key meanwhile, and then
        # both use that one.
        with contextlib.suppress(FileExistsError):
            os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return _read_key(path)


def key_for(identity: ChainIdentity) -> bytes:
    """The key this database's chain was made with, or AuditKeyError in one sentence."""
    key = local_key(create=False)
    if key is None:
        raise AuditKeyError(
            f"The audit key {identity.key_id} this database's audit trail is chained with is "
            f"not on this computer; copy the clinic's {KEY_FILE_NAME} into {key_folder()} "
            "(see SECURITY.md)."
        )
    if fingerprint(key) != identity.key_id:
        raise AuditKeyError(
            f"The audit key in {key_path()} is {fingerprint(key)}, but this database's audit "
            f"trail is chained with key {identity.key_id}; install the clinic's own key file."
        )
    return key


def read_identity(connection: Connection, *, migrated: bool = False) -> ChainIdentity | None:
    """The chain's identity, or None; ``migrated`` says the table is known to exist (a
    database opened by the app), which saves looking it up in the catalogue."""
    if not migrated and not inspect(connection).has_table("audit_chain"):
        return None
    row = connection.execute(text("SELECT database_id, key_id FROM audit_chain")).first()
    return None if row is None else ChainIdentity(str(row[0]), str(row[1]))


def new_identity(key: bytes) -> ChainIdentity:
    return ChainIdentity(database_id=str(uuid.uuid4()), key_id=fingerprint(key))


def genesis(key: bytes, database_id: str) -> str:
    """The first entry's 'previous' MAC: ties the chain to this database's id."""
    return hmac.new(
        key, f"backclinic audit genesis {database_id}".encode(), hashlib.sha256
    ).hexdigest()


# The audit trail's columns, for migrations (which must not use the ORM model of the day).
EVENTS = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("occurred_at", UtcDateTime(timezone=True)),
    sa.column("clinician_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.Integer),
    sa.column("patient_id", sa.Integer),
    sa.column("details", sa.JSON),
    sa.column("previous_hash", sa.String),
    sa.column("entry_hash", sa.String),
    sa.column("chain_position", sa.Integer),
)


class EntryFields(TypedDict):
    """An audit entry's stored fields that its MAC (or legacy hash) covers."""

    occurred_at: dt.datetime
    clinician_id: int | None
    action: str
    entity: str
    entity_id: int | None
    patient_id: int | None
    details: dict[str, Any]


def fields_of(row: Any) -> EntryFields:
    """The MAC-covered fields of a stored entry (an ORM row or a result row)."""
    return EntryFields(
        occurred_at=row.occurred_at,
        clinician_id=row.clinician_id,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        patient_id=row.patient_id,
        details=row.details,
    )


def _payload(previous: str, position: int | None, entry: EntryFields) -> bytes:
    fields: dict[str, Any] = {
        "previous": previous,
        "at": entry["occurred_at"].astimezone(dt.UTC).isoformat(),
        "clinician": entry["clinician_id"],
        "action": entry["action"],
        "entity": entry["entity"],
        "entity_id": entry["entity_id"],
        "patient": entry["patient_id"],
        "details": entry["details"],
    }
    if position is not None:
        fields["position"] = position
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")


def entry_mac(key: bytes, previous: str, *, position: int, **entry: Unpack[EntryFields]) -> str:
    """HMAC-SHA-256 of one entry's stored fields, its place in the chain and the one before."""
    return hmac.new(key, _payload(previous, position, entry), hashlib.sha256).hexdigest()


def legacy_entry_hash(previous: str, **entry: Unpack[EntryFields]) -> str:
    """The unkeyed SHA-256 of schema 0003 and before; only the migration re-checks it."""
    return hashlib.sha256(_payload(previous, None, entry)).hexdigest()


def head_path(database_id: str) -> Path:
    return key_folder() / HEADS_FOLDER_NAME / f"{database_id}.json"


def read_head(database_id: str) -> ChainHead | None:
    """The anchor recorded on this computer, or None when it has none for this database."""
    return _head_at(head_path(database_id))


def _head_at(path: Path) -> ChainHead | None:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return ChainHead(count=int(stored["count"]), mac=str(stored["mac"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AuditKeyError(
            f"The audit anchor {path} is unreadable ({error}); it was damaged or tampered with."
        ) from error


def record_head(database_id: str, head: ChainHead, *, replace: bool = False) -> None:
    """Move the anchor forward (never back, unless a restore replaces the whole chain)."""
    # Found once: every save records its head, and finding the folder asks platformdirs.
    path = head_path(database_id)
    _private_folder(path.parent)
    # Read, compare and replace under one lock: two processes of this workstation saving at
    # once would otherwise let the older head land last and move the anchor back.
    with _locked(path.with_name(f".{path.name}.lock")):
        if not replace:
            try:
                current = _head_at(path)
            except AuditKeyError:
                current = None
            if current is not None and current.count >= head.count:
                return
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with open(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"count": head.count, "mac": head.mac}, handle)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``lock_path`` among this computer's processes (POSIX;
    where there is no flock, as on Windows, the anchor is written unlocked)."""
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform != "win32":
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


# What each sanctioned rewrite of the PostgreSQL trail needs lifted: the privilege the app's
# role gave up (migration 0005), and the trigger that refuses the statement anyway.
_GUARDS = {
    "truncate": ("TRUNCATE", "audit_event_no_truncate"),
    "rewrite": ("UPDATE, DELETE", "audit_event_append_only"),
}


@contextlib.contextmanager
def guard_lifted(connection: Connection, kind: Literal["truncate", "rewrite"]) -> Iterator[None]:
    """Lift the PostgreSQL trail's append-only guard inside ``connection``'s transaction.

    Only a full replacement (restore) or the test template's emptying does this. The guard
    comes back before the transaction ends; if the block fails, the rollback undoes the
    lifting too (PostgreSQL's DDL is transactional).
    """
    privileges, trigger = _GUARDS[kind]
    connection.execute(text(f"GRANT {privileges} ON audit_event TO CURRENT_USER"))
    connection.execute(text(f"ALTER TABLE audit_event DISABLE TRIGGER {trigger}"))
    yield
    connection.execute(text(f"ALTER TABLE audit_event ENABLE TRIGGER {trigger}"))
    connection.execute(text(f"REVOKE {privileges} ON audit_event FROM CURRENT_USER"))
