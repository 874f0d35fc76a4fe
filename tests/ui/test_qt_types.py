"""The wrapper types Qt for Python readies lazily are readied while the clinician types.

In a fresh interpreter, since the test run itself has long readied every type it touched.
"""

from __future__ import annotations

from tests.fresh_python import last_json, run_python

PROBE = """
import enum
import json
import sys

from PySide6.QtWidgets import QApplication, QLabel

made = []
create = enum.EnumType._create_


def counted(cls, *args, **kwargs):
    made.append(1)
    return create(cls, *args, **kwargs)


enum.EnumType._create_ = counted
app = QApplication(sys.argv[:1])
label = QLabel("Sign in")
label.show()
from backclinic.ui.qt_types import ready_wrapper_types

before = len(made)
ready_wrapper_types()
readied = len(made) - before
# What the main window's first paint does: Qt handing Python its widgets by base class.
app.allWidgets()
app.children()
app.processEvents()
print(json.dumps({"readied": readied, "afterwards": len(made) - before - readied}))
"""


def test_readying_the_wrapper_types_leaves_none_for_the_first_paint() -> None:
    report = last_json(run_python("-c", PROBE))
    assert report["readied"] > 0, "shiboken readies the subclasses and their enums when asked"
    assert report["afterwards"] == 0
