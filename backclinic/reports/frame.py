"""The frame every printed document shares: fonts, one stylesheet and one page template.

Each page carries the clinic's letterhead at the top and, at the bottom, the patient (name,
date of birth, MRN), the print date, "Page N of M" and the protocol the plan came from.
The total page count is only known once the story is laid out, so the page furniture is
drawn by a canvas that keeps every page until ``save`` (reportlab's two-pass idiom).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph
from reportlab.platypus.tables import TableStyle

from backclinic.domain.resources import resources_dir
from backclinic.reports.content import DocumentFrame, RenderedPdf

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
HEADER_HEIGHT = 24 * mm
FOOTER_HEIGHT = 16 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#5f6b7a")
ACCENT = colors.HexColor("#1d6f72")
RULE = colors.HexColor("#b8c4ce")
SHADE = colors.HexColor("#eef3f4")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day(value: dt.date) -> str:
    """5 Jan 2026: unambiguous in every country, and independent of the process locale."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def weekday_day(value: dt.date) -> str:
    return f"{_WEEKDAYS[value.weekday()]} {day(value)}"


def number(value: float) -> str:
    """A score as printed: whole numbers without a decimal point, otherwise one decimal."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def fonts_dir() -> Path:
    return resources_dir() / "fonts"


@cache
def register_fonts() -> None:
    """Register the shipped DejaVu Sans once per process (it covers Latin, Greek, Cyrillic
    and Vietnamese); <b> in a paragraph then selects the bold face."""
    folder = fonts_dir()
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


class Styles:
    """The one stylesheet of every document."""

    def __init__(self) -> None:
        register_fonts()
        base = ParagraphStyle(
            "body", fontName=FONT, fontSize=9.5, leading=13, textColor=INK, alignment=TA_LEFT
        )
        self.body = base
        self.small = ParagraphStyle("small", base, fontSize=8, leading=10.5)
        self.muted = ParagraphStyle("muted", self.small, textColor=MUTED)
        self.cell = ParagraphStyle("cell", base, fontSize=8, leading=10)
        self.cell_bold = ParagraphStyle("cell_bold", self.cell, fontName=FONT_BOLD)
        self.title = ParagraphStyle(
            "title", base, fontName=FONT_BOLD, fontSize=16, leading=20, spaceAfter=2 * mm
        )
        self.subtitle = ParagraphStyle(
            "subtitle", base, fontSize=10, leading=13, textColor=MUTED, spaceAfter=4 * mm
        )
        self.heading = ParagraphStyle(
            "heading",
            base,
            fontName=FONT_BOLD,
            fontSize=11.5,
            leading=15,
            textColor=ACCENT,
            spaceBefore=5 * mm,
            spaceAfter=1.5 * mm,
            keepWithNext=True,
        )
        self.subheading = ParagraphStyle(
            "subheading",
            base,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=13,
            spaceBefore=2.5 * mm,
            spaceAfter=1 * mm,
            keepWithNext=True,
        )
        self.bullet = ParagraphStyle("bullet", base, leftIndent=4 * mm, bulletIndent=0)

    def table(self, *, header: bool = True, zebra: bool = True) -> TableStyle:
        commands: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), FONT, 8),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ("LINEBELOW", (0, -1), (-1, -1), 0.5, RULE),
        ]
        if header:
            commands += [
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8),
                ("TEXTCOLOR", (0, 0), (-1, 0), ACCENT),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
            ]
        if zebra:
            commands.append(("ROWBACKGROUNDS", (0, 1 if header else 0), (-1, -1), [None, SHADE]))
        return TableStyle(commands)


def escape(text: str) -> str:
    """Text for a Paragraph: its mini-markup must not read a patient's "<" as a tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bullets(items: Sequence[str], style: ParagraphStyle) -> list[Flowable]:
    return [Paragraph(item, style, bulletText="•") for item in items]


class _PagedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
    """Keeps each page's state so the furniture can say "Page N of M" once M is known."""

    def __init__(self, *args: Any, frame: DocumentFrame, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._frame = frame
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for page in self._pages:
            self.__dict__.update(page)
            _draw_furniture(self, self._frame, self._pageNumber, total)
            super().showPage()
        super().save()


def _logo(path: Path | None) -> ImageReader | None:
    if path is None:
        return None
    try:
        return ImageReader(str(path))
    except Exception:
        # A moved or unreadable logo must not stop a document being handed over.
        return None


def _draw_furniture(canvas: Canvas, frame: DocumentFrame, page: int, total: int) -> None:
    letterhead = frame.letterhead
    top = PAGE_HEIGHT - 12 * mm
    left, right = MARGIN, PAGE_WIDTH - MARGIN
    canvas.saveState()
    logo = _logo(letterhead.logo_path)
    text_right = right
    if logo is not None:
        width, height = logo.getSize()
        box_h = 14 * mm
        box_w = min(45 * mm, box_h * width / height) if height else 0
        canvas.drawImage(
            logo,
            right - box_w,
            top - box_h + 3 * mm,
            width=box_w,
            height=box_h,
            preserveAspectRatio=True,
            mask="auto",
            anchor="ne",
        )
        text_right = right - box_w - 4 * mm
    canvas.setFillColor(ACCENT)
    canvas.setFont(FONT_BOLD, 13)
    canvas.drawString(left, top - 2 * mm, _fit(letterhead.clinic_name, FONT_BOLD, 13, text_right))
    canvas.setFillColor(MUTED)
    canvas.setFont(FONT, 8)
    canvas.drawString(left, top - 7 * mm, _fit(letterhead.contact_line, FONT, 8, text_right))
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1.2)
    rule_y = PAGE_HEIGHT - HEADER_HEIGHT + 3 * mm
    canvas.line(left, rule_y, right, rule_y)

    patient = frame.patient
    base = FOOTER_HEIGHT - 6 * mm
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(left, base + 9 * mm, right, base + 9 * mm)
    canvas.setFillColor(INK)
    canvas.setFont(FONT_BOLD, 8)
    who = f"{patient.name} · born {day(patient.date_of_birth)} · MRN {patient.mrn}"
    canvas.drawString(left, base + 5 * mm, _fit(who, FONT_BOLD, 8, right - 40 * mm))
    canvas.setFont(FONT, 8)
    canvas.drawRightString(right, base + 5 * mm, f"Page {page} of {total}")
    canvas.setFillColor(MUTED)
    canvas.setFont(FONT, 7)
    protocol = f"{frame.title} · {frame.protocol_name}, protocol version {frame.protocol_version}"
    canvas.drawString(left, base + 1.5 * mm, _fit(protocol, FONT, 7, right - 40 * mm))
    canvas.drawRightString(right, base + 1.5 * mm, f"Printed {day(frame.printed_on)}")
    canvas.restoreState()


def _fit(text: str, font: str, size: float, right: float) -> str:
    """Shorten one header or footer line with an ellipsis so it never runs into its neighbour."""
    room = right - MARGIN
    if pdfmetrics.stringWidth(text, font, size) <= room:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > room:
        text = text[:-1]
    return text + "…"


def render(frame: DocumentFrame, story: list[Flowable]) -> RenderedPdf:
    """Lay out ``story`` in the shared page template and return the PDF and its page count."""
    register_fonts()
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=HEADER_HEIGHT,
        bottomMargin=FOOTER_HEIGHT + 4 * mm,
        title=f"{frame.title} — {frame.patient.name}",
        author=frame.printed_by or frame.letterhead.clinic_name,
        subject=frame.letterhead.clinic_name,
        creator="BackClinic",
    )
    body = Frame(
        MARGIN,
        FOOTER_HEIGHT + 4 * mm,
        CONTENT_WIDTH,
        PAGE_HEIGHT - HEADER_HEIGHT - FOOTER_HEIGHT - 4 * mm,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    document.addPageTemplates([PageTemplate(id="page", frames=[body])])
    canvases: list[_PagedCanvas] = []

    def make_canvas(*args: Any, **kwargs: Any) -> _PagedCanvas:
        canvas = _PagedCanvas(*args, frame=frame, **kwargs)
        canvases.append(canvas)
        return canvas

    document.build(story, canvasmaker=make_canvas)
    pages = len(canvases[-1]._pages) if canvases else 0
    return RenderedPdf(buffer.getvalue(), pages)
