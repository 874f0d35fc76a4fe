"""Every benchmark script still imports: a refactor that renames what a benchmark uses
must fail here, not weeks later when someone runs the benchmark for a closing note."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import benchmarks

BENCHMARKS = sorted(module.name for module in pkgutil.iter_modules(benchmarks.__path__))


def test_the_benchmarks_are_found() -> None:
    assert {"reports", "load_pg", "idle_memory", "startup", "gui_stall"} <= set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_imports(name: str) -> None:
    importlib.import_module(f"benchmarks.{name}")
