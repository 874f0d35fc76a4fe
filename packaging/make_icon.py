"""Draw BackClinic's icon with Qt: a teal tile with a spine of five vertebrae and a needle.

Writes resources/icons/backclinic.png (256 px, the window icon and the Linux desktop icon)
and, next to it, backclinic.ico (Windows). Run again after changing the drawing:
`python packaging/make_icon.py`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen

SIZE = 256
TEAL = QColor("#1d6f72")
BONE = QColor("#f4f1ea")
NEEDLE = QColor("#e0b04c")
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def draw(size: int = SIZE) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    unit = size / 16
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(TEAL)
    painter.drawRoundedRect(QRectF(0, 0, size, size), 3 * unit, 3 * unit)
    painter.setBrush(BONE)
    for index, width in enumerate((4.0, 4.6, 5.2, 5.8, 6.4)):
        top = (2.2 + index * 2.4) * unit
        left = (size - width * unit) / 2
        painter.drawRoundedRect(QRectF(left, top, width * unit, 1.7 * unit), unit, unit)
    painter.setPen(QPen(NEEDLE, 0.6 * unit, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawLine(QPointF(11.8 * unit, 2.0 * unit), QPointF(8.9 * unit, 7.6 * unit))
    painter.setBrush(NEEDLE)
    painter.drawEllipse(QPointF(12.1 * unit, 1.5 * unit), 0.8 * unit, 0.8 * unit)
    painter.end()
    return image


def main() -> int:
    application = QGuiApplication(sys.argv)
    ICONS.mkdir(parents=True, exist_ok=True)
    image = draw()
    written = [ICONS / "backclinic.png", ICONS / "backclinic.ico"]
    if not image.save(str(written[0]), "PNG"):
        raise SystemExit(f"could not write {written[0]}")
    if not image.scaled(128, 128).save(str(written[1]), "ICO"):
        raise SystemExit(f"could not write {written[1]} (Qt's ico image plugin is missing)")
    for path in written:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    del application
    return 0


if __name__ == "__main__":
    sys.exit(main())
