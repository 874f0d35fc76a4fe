"""Latency of PatientService.search on 100,000 patients (goal: p95 <= 10 ms per query).

Measures the service call a search box makes on each keystroke: 1-, 2- and 3-letter
prefixes (drawn from the registry's own names, plus a few that match nothing), non-Latin
prefixes, two-word queries, MRNs and dates of birth. With --explain it prints SQLite's
query plan for the slowest query of each kind.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import string
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Engine, event, select

from backclinic.db.database import open_database
from backclinic.db.models import PatientRow
from backclinic.services.context import ServiceContext
from backclinic.services.patients import PatientService, fold
from benchmarks.clinic_db import BENCHMARK, database_argument, ensure, sqlite_url

GOAL_P95_MS = 10.0
REPEATS = 5


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def query_sets(patients: PatientService, rng: random.Random) -> dict[str, list[str]]:
    with patients._context._session_factory() as session:
        rows = session.execute(
            select(PatientRow.family_key, PatientRow.given_key, PatientRow.mrn,
                   PatientRow.date_of_birth)
        ).all()  # fmt: skip
    keys = [row[0] for row in rows] + [row[1] for row in rows]
    latin = [key for key in keys if key[:3].isascii() and key[:3].isalpha()]
    sample = rng.sample(rows, 20)

    def prefixes(length: int, count: int) -> list[str]:
        found = sorted({key[:length] for key in latin if len(key) >= length})
        return rng.sample(found, min(count, len(found)))

    return {
        "1 letter": list(string.ascii_lowercase),
        "2 letters": [*prefixes(2, 60), "qx", "zz"],
        "3 letters": [*prefixes(3, 80), "xqz", "zzy"],
        "non-Latin": ["ив", "ива", "πα", "παπ", "김", "nú", "øs", "łu", "ng", "nguy"],
        "two words": ["sm j", "mar a", "o b", "ng th", "patel r", "kim min"],
        "full name": [f"{fold(row[0])} {fold(row[1])}" for row in sample[:10]],
        "MRN": ["BC-0", "BC-00", "BC-0500", "bc-05000"] + [row[2] for row in sample[:8]],
        "date of birth": [row[3].isoformat() for row in sample[:6]]
        + [row[3].strftime("%d.%m.%Y") for row in sample[6:10]],
    }


def measure(call: Callable[[], object]) -> list[float]:
    call()  # warm: statement cache, pages
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    database_argument(parser)
    parser.add_argument("--explain", action="store_true", help="print plans of slow queries")
    arguments = parser.parse_args()
    path: Path = ensure(arguments.database)
    database = open_database(sqlite_url(path))
    patients = PatientService(ServiceContext(database.session_factory))
    print(f"{patients.count(BENCHMARK):,} patients in {path}")
    queries = query_sets(patients, random.Random(1))
    gc.collect()  # the registry sample read above is garbage now; keep its sweep out
    everything: list[float] = []
    kinds: list[str] = []
    slowest: dict[str, tuple[float, str]] = {}
    print(f"{'queries':<14}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  slowest query")
    for kind, texts in queries.items():
        samples: list[float] = []
        for text in texts:
            timed = measure(lambda text=text: patients.search(BENCHMARK, text))
            samples += timed
            worst = max(timed)
            if worst > slowest.get(kind, (0.0, ""))[0]:
                slowest[kind] = (worst, text)
        everything += samples
        kinds += [kind] * len(samples)
        print(
            f"{kind:<14}{len(texts):>4}{statistics.median(samples):>9.2f}"
            f"{percentile(samples, 0.95):>9.2f}{max(samples):>9.2f}  {slowest[kind][1]!r}"
        )
    # The page after the first, as a scrolling list asks for it.
    paged: list[float] = []
    for text in ["s", "ma", "ng"]:
        cursor = patients.search(BENCHMARK, text).cursor
        paged += measure(
            lambda text=text, cursor=cursor: patients.search(BENCHMARK, text, after=cursor)
        )
    everything += paged
    kinds += ["next page"] * len(paged)
    print(
        f"{'next page':<14}{3:>4}{statistics.median(paged):>9.2f}"
        f"{percentile(paged, 0.95):>9.2f}{max(paged):>9.2f}"
    )
    by_name = [ms for kind, ms in zip(kinds, everything, strict=True) if kind != "date of birth"]
    print(
        f"name and MRN calls: p50 {statistics.median(by_name):.2f} ms, "
        f"p95 {percentile(by_name, 0.95):.2f} ms"
    )
    p50, p95 = statistics.median(everything), percentile(everything, 0.95)
    verdict = "met" if p95 <= GOAL_P95_MS else "MISSED"
    print(f"all {len(everything)} calls: p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    print(f"goal p95 <= {GOAL_P95_MS:.0f} ms: {verdict}")
    list_reads(patients, queries)
    if arguments.explain:
        explain(database.engine, patients, slowest)
    database.engine.dispose()


def list_reads(patients: PatientService, queries: dict[str, list[str]]) -> None:
    """The list's other reads per page: each row's status, and (first page only) the count."""
    statuses: list[float] = []
    counts: list[float] = []
    for texts in queries.values():
        for text in texts:
            ids = [row.id for row in patients.search(BENCHMARK, text).rows]
            statuses += measure(lambda ids=ids: patients.statuses(BENCHMARK, ids))
            counts += measure(lambda text=text: patients.count(BENCHMARK, text=text))
    for name, samples in (("page statuses", statuses), ("search count", counts)):
        print(
            f"{name:<14}{len(samples):>5} calls: p50 {statistics.median(samples):.2f} ms, "
            f"p95 {percentile(samples, 0.95):.2f} ms, max {max(samples):.2f} ms"
        )


def explain(
    engine: Engine, patients: PatientService, slowest: dict[str, tuple[float, str]]
) -> None:
    """Print SQLite's plan for each kind's slowest query, as the service sends it."""
    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    for kind, (_ms, text) in slowest.items():
        captured.clear()
        patients.search(BENCHMARK, text)
        statement, parameters = next(
            (s, p) for s, p in captured if s.lstrip().upper().startswith("SELECT")
        )
        with engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            print(f"\n{kind}: {text!r}")
            for row in plan:
                print(f"  {row[-1]}")
    event.remove(engine, "before_cursor_execute", capture)


if __name__ == "__main__":
    main()
