"""PDF writer on fpdf2: bundled DejaVu font (Cyrillic), literal text only, tables and chart images."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

from reports.safe import pdf_text

FONT_DIR = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
HEADER_FILL = (31, 78, 121)
ZEBRA_FILL = (242, 246, 250)
MUTED = (110, 110, 110)


class ReportPDF(FPDF):
    """A4 document with the bundled font, a running footer (title · page n/N) and literal text helpers."""

    def __init__(self, title: str, lang: str = "ru", landscape: bool = False) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.report_title = pdf_text(title)
        self.lang = lang
        self.add_font(FAMILY, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_font(FAMILY, size=10)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(self.report_title)
        self.set_creator("Partner ROI")
        self.set_lang("ru-RU" if lang == "ru" else "en-US")
        self.add_page()

    def footer(self) -> None:
        """Title and page number at the bottom of every page."""
        self.set_y(-12)
        self.set_font(FAMILY, size=7)
        self.set_text_color(*MUTED)
        page = f"{self.page_no()} / {{nb}}"
        self.cell(0, 5, f"{self.report_title} · {page}", align="R", markdown=False)
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: int = 16) -> None:
        """A bold heading line."""
        self.set_font(FAMILY, "B", size)
        self.multi_cell(0, size * 0.5, pdf_text(text), markdown=False, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, size=10)
        self.ln(1)

    def para(self, text: str, size: int = 9, muted: bool = False) -> None:
        """A paragraph of literal text."""
        self.set_font(FAMILY, size=size)
        if muted:
            self.set_text_color(*MUTED)
        self.multi_cell(0, size * 0.5, pdf_text(text), markdown=False, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.set_font(FAMILY, size=10)

    def key_values(self, lines: Sequence[tuple[str, str]], size: int = 9) -> None:
        """Label: value lines (period, filters, source, generated at)."""
        for label, value in lines:
            self.set_font(FAMILY, "B", size)
            self.cell(45, size * 0.5, pdf_text(label), markdown=False)
            self.set_font(FAMILY, size=size)
            self.multi_cell(0, size * 0.5, pdf_text(value), markdown=False,
                            new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def table_rows(self, header: Sequence[str], rows: Sequence[Sequence[str]],
                   align: Sequence[str] | None = None, widths: Sequence[float] | None = None,
                   size: float = 8, width: float | None = None) -> None:
        """A table of already formatted strings (numbers right-aligned when align says "R"), full width by default."""
        self.set_font(FAMILY, size=size)
        aligns = list(align or ["L"] * len(header))
        heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=HEADER_FILL)
        with self.table(col_widths=widths, text_align=aligns, markdown=False, headings_style=heading,
                        line_height=size * 0.55, cell_fill_color=ZEBRA_FILL, cell_fill_mode="ROWS",
                        width=width or self.epw, align="LEFT", repeat_headings=1) as table:
            row = table.row()
            for text in header:
                row.cell(pdf_text(text))
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(pdf_text(text))
        self.set_font(FAMILY, size=10)
        self.ln(3)

    def picture(self, png: bytes, width: float | None = None, max_height: float | None = None) -> None:
        """A PNG image (a rendered chart), scaled to fit width and max_height; new page when it does not fit."""
        from PIL import Image  # fpdf2 depends on Pillow

        with Image.open(io.BytesIO(png)) as img:
            ratio = img.height / img.width
        width = width or self.epw
        if max_height and width * ratio > max_height:
            width = max_height / ratio
        height = width * ratio
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
        self.image(io.BytesIO(png), x=self.l_margin, w=width, h=height)
        self.ln(3)

    def render(self) -> bytes:
        """The finished document as bytes."""
        self.set_creation_date(datetime.now().astimezone())
        return bytes(self.output())
