"""A bare session over a test's database, to look at rows directly or plant one a use case
would refuse; not a use case, so it bypasses the entry-point guard on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from backclinic.services.bundle import Services


@contextmanager
def stored_records(services: Services) -> Iterator[Session]:
    """One transaction, committed when the block ends (the services' own factory)."""
    with services.context._session_factory.begin() as session:
        yield session
