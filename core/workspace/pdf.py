"""The model card as PDF: the same sections, figures, tables and texts as the HTML card, for readers
who file or print documents.

The PDF is made from the HTML card itself (``build_report_html``), so the two never disagree: its
headings, paragraphs, lists, figure tiles, tables and the trust warning are laid out with fpdf2
(pure Python, imported only here). The recorded curves (ROC, precision-recall, backtest) are drawn
as vector lines where the HTML card has them, the explanations chart becomes its table (mean |SHAP|
per column), and any other chart points to the interactive HTML card. Text is set in DejaVu Sans
where the system has it (every character); elsewhere in Helvetica, with the few characters it lacks
written out (€ as EUR, → as ->).
"""

from __future__ import annotations

import html.parser
import os
from pathlib import Path

from core.errors import DataValidationError
from core.store.runmeta import section, workspace

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF",
             "/usr/local/share/fonts", "/Library/Fonts", "C:/Windows/Fonts")
_PLAIN = {"€": "EUR ", "—": "-", "–": "-", "→": "->", "←": "<-", "≥": ">=", "≤": "<=", "…": "...", "’": "'",
          "‘": "'", "“": '"', "”": '"', "−": "-", "≈": "~", "✓": "yes", "✗": "no", "\u00a0": " ", "\u2009": " ",
          "\u202f": " "}
SKIP = {"script", "style", "title", "head"}


class _CardParser(html.parser.HTMLParser):
    """The card's HTML as a list of blocks: ("h1"|"h2"|"h3", text), ("p", runs, style), ("li", runs, style),
    ("table", rows), ("figs", [(label, value)]), ("chart",). ``runs`` are (text, bold) pairs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple] = []
        self.skip = 0
        self.bold = 0
        self.classes: list[str] = []
        self.runs: list[tuple[str, bool]] | None = None
        self.kind = "p"
        self.heading: list[str] | None = None
        self.table: list | None = None
        self.cell: list[str] | None = None
        self.fig: dict | None = None
        self.fig_part: str | None = None
        self.in_head = False

    def _style(self) -> str:
        for c in reversed(self.classes):
            if c in ("trust-title", "trust", "trust-short", "na", "small", "meta", "excluded", "verdict"):
                return c
        return "normal"

    def _flush(self):
        if self.runs and "".join(t for t, _ in self.runs).strip():
            self.blocks.append((self.kind, self.runs, self._style()))
        self.runs, self.kind = None, "p"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in SKIP:
            self.skip += 1
            return
        cls = a.get("class") or ""
        if tag == "div" and (a.get("id") or "").startswith("chart-"):
            self._flush()
            self.blocks.append(("chart",))
        if tag in ("div", "p", "section", "ul", "table", "footer", "main", "li"):
            self.classes.append(cls)
        if tag in ("h1", "h2", "h3"):
            self._flush()
            self.heading = []
        elif tag in ("p", "li", "footer"):
            self._flush()
            self.runs, self.kind = [], ("li" if tag == "li" else "p")
            if tag == "footer":
                self.classes.append("small")
        elif tag == "table":
            self._flush()
            self.table = []
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr" and self.table is not None:
            self.table.append(([], self.in_head))
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []
        elif tag == "div" and "figs" in cls.split():
            self._flush()
            self.blocks.append(("figs", []))
        elif tag == "div" and "fig" in cls.split():
            self.fig = {}
        elif tag == "div" and self.fig is not None and cls in ("label", "value"):
            self.fig_part = cls
            self.fig[cls] = ""
        elif tag in ("b", "strong"):
            self.bold += 1
        elif tag == "br" and self.runs is not None:
            self.runs.append(("\n", False))

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag in ("h1", "h2", "h3") and self.heading is not None:
            self.blocks.append((tag, " ".join("".join(self.heading).split())))
            self.heading = None
        elif tag in ("p", "li", "footer"):
            self._flush()
        elif tag in ("td", "th") and self.cell is not None and self.table:
            self.table[-1][0].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "table" and self.table is not None:
            self.blocks.append(("table", [r for r in self.table if r[0]]))
            self.table = None
        elif tag == "div" and self.fig_part is not None:
            self.fig_part = None
        elif tag == "div" and self.fig is not None:
            self.blocks[-1][1].append((self.fig.get("label", ""), self.fig.get("value", "")))
            self.fig = None
        elif tag in ("b", "strong"):
            self.bold = max(0, self.bold - 1)
        if tag in ("div", "p", "section", "ul", "table", "footer", "main", "li") and self.classes:
            self.classes.pop()
            if tag == "footer" and self.classes:
                self.classes.pop()

    def handle_data(self, data):
        if self.skip:
            return
        if self.heading is not None:
            self.heading.append(data)
        elif self.cell is not None:
            self.cell.append(data)
        elif self.fig_part is not None:
            self.fig[self.fig_part] += data.strip()
        elif self.runs is not None:
            self.runs.append((" ".join(data.split("\n")), self.bold > 0))
        elif data.strip():
            self.runs, self.kind = [(data.strip(), self.bold > 0)], "p"


def parse_card(card_html: str) -> list[tuple]:
    """The blocks of a card made by ``build_report_html`` (see ``_CardParser``)."""
    p = _CardParser()
    p.feed(card_html)
    p.close()
    p._flush()
    return p.blocks


def _find_font() -> tuple[Path, Path] | None:
    """DejaVu Sans (regular, bold) from ``STUDIO_PDF_FONT_DIR`` or the usual system folders."""
    dirs = [os.environ.get("STUDIO_PDF_FONT_DIR", ""), *FONT_DIRS]
    for d in filter(None, dirs):
        regular, bold = Path(d) / "DejaVuSans.ttf", Path(d) / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Writer:
    """Lays the card's blocks out on A4 pages."""

    def __init__(self, title: str, importance: dict | None, curves: list | None = None):
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_margins(16, 16, 16)
        self.pdf.set_auto_page_break(True, margin=16)
        font = _find_font()
        if font is not None:
            self.pdf.add_font("DejaVu", "", str(font[0]))
            self.pdf.add_font("DejaVu", "B", str(font[1]))
            self.family, self.unicode = "DejaVu", True
        else:
            self.family, self.unicode = "helvetica", False
        self.pdf.set_title(self.text(title))
        self.pdf.set_creator("AI Use-Case Studio")
        self.pdf.add_page()
        self.importance = importance
        self.table_size = 8.0
        self.curves = list(curves or [])  # the HTML card's curve figures, in the order they appear
        self.section = ""

    def text(self, s: str) -> str:
        s = str(s)
        if self.unicode:
            return s
        s = "".join(_PLAIN.get(ch, ch) for ch in s)
        return s.encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False, color=(31, 41, 55)):
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def heading(self, level: str, text: str):
        size = {"h1": 17, "h2": 13, "h3": 10.5}[level]
        if level == "h2":
            self.section = text
            if self.pdf.get_y() > self.pdf.h - 60:
                self.pdf.add_page()
            self.pdf.ln(4)
        self.font(size, bold=True)
        self.pdf.multi_cell(0, size * 0.5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        if level == "h2":
            y = self.pdf.get_y()
            self.pdf.set_draw_color(229, 231, 235)
            self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.pdf.ln(1.5)

    def paragraph(self, runs, style: str, bullet: bool = False):
        colors = {"trust": (185, 28, 28), "trust-short": (185, 28, 28), "trust-title": (185, 28, 28), "na": (107, 114, 128),
                  "meta": (107, 114, 128)}
        size = 8.5 if style in ("small", "meta", "excluded") else 9.5
        color = colors.get(style, (31, 41, 55))
        if bullet:
            self.font(size, color=color)
            self.pdf.write(size * 0.5, "  •  " if self.unicode else "  -  ")
        for text, bold in runs:
            self.font(size, bold=bold or style == "trust-title", color=color)
            self.pdf.write(size * 0.5, self.text(text))
        self.pdf.ln(size * 0.5 + 1.5)

    def table(self, rows, *, widths=None):
        if not rows:
            return
        width = max(len(cells) for cells, _ in rows)
        if widths is None and width == 2 and not rows[0][1]:
            widths = (2, 3)  # a label and its value
        elif widths is None and width > 3:
            widths = self._word_widths(rows, width)
        self.font(self.table_size if widths is not None and width > 3 else 8)
        with self.pdf.table(col_widths=widths, text_align="LEFT", line_height=4, padding=1,
                            first_row_as_headings=rows[0][1], borders_layout="HORIZONTAL_LINES") as t:
            for cells, _ in rows:
                r = t.row()
                for c in [*cells, *[""] * (width - len(cells))]:
                    r.cell(self.text(c))
        self.pdf.ln(2)

    def _word_widths(self, rows, width: int) -> tuple[float, ...]:
        """Column widths in which no word has to break (every metric of every model is one wide table):
        the smallest type from 8 pt down to 5.5 pt at which each column's longest word fits, the rest of
        the line shared out in proportion."""
        room = self.pdf.w - self.pdf.l_margin - self.pdf.r_margin
        def longest(i: int, size: float) -> float:
            best = 0.0
            for cells, head in rows:
                self.font(size, bold=head)  # headings are set in bold, which is wider
                for w in (cells[i].split() if i < len(cells) else []):
                    best = max(best, self.pdf.get_string_width(self.text(w)))
            return best + 2 * (1 + self.pdf.c_margin) + 0.5  # the cell's padding and fpdf2's own margin

        for size in (8, 7.5, 7, 6.5, 6, 5.5):
            need = [longest(i, size) for i in range(width)]
            if sum(need) <= room:
                break
        self.table_size = size
        extra = max(room - sum(need), 0)
        return tuple(n + extra * n / sum(need) for n in need)

    def figs(self, items):
        self.table([([self.text(label), self.text(value)], False) for label, value in items], widths=(2, 1))

    def chart(self):
        imp = self.importance
        if self.section != "Explanations" and self.curves:
            self.line_chart(self.curves.pop(0))
        elif self.section == "Explanations" and imp:
            top = sorted(imp.items(), key=lambda kv: -float(kv[1]))[:20]
            self.table([(["Input column", "Mean |SHAP value|"], True)] + [([str(k), f"{float(v):.4f}"], False)
                                                                          for k, v in top], widths=(3, 1))
        else:
            self.paragraph([("Chart: interactive in the HTML model card.", False)], "na")

    def line_chart(self, fig, height: float = 58.0):
        """A recorded curve (one of the HTML card's figures) drawn as vector lines: axes with their
        titles, a few ticks, one line per trace and a legend under it."""
        from html import unescape

        pdf = self.pdf
        traces = [t for t in fig.data if t.x is not None and t.y is not None and len(t.x)]
        if not traces:
            return
        if pdf.get_y() + height + 24 > pdf.h - pdf.b_margin:
            pdf.add_page()
        self.font(9, bold=True)
        pdf.cell(0, 5, self.text(unescape(fig.layout.title.text or "")), new_x="LMARGIN", new_y="NEXT")
        dated = isinstance(traces[0].x[0], str)
        dates = sorted({str(v) for t in traces for v in t.x}) if dated else []  # ISO dates sort in time order
        at = {d: i for i, d in enumerate(dates)}
        xs = [[at[str(v)] for v in t.x] if dated else [float(v) for v in t.x] for t in traces]
        ys = [[float(v) for v in t.y] for t in traces]
        x0, x1 = min(min(x) for x in xs), max(max(x) for x in xs)
        y0, y1 = min(min(y) for y in ys), max(max(y) for y in ys)
        x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
        left, top = pdf.l_margin + 14, pdf.get_y() + 2
        width = pdf.w - pdf.r_margin - left - 4
        sx = lambda v: left + (v - x0) / (x1 - x0) * width  # noqa: E731
        sy = lambda v: top + height - (v - y0) / (y1 - y0) * height  # noqa: E731
        pdf.set_draw_color(156, 163, 175)
        pdf.set_line_width(0.2)
        pdf.line(left, top + height, left + width, top + height)
        pdf.line(left, top, left, top + height)
        self.font(7, color=(107, 114, 128))
        for k in range(5):
            yv, xv = y0 + (y1 - y0) * k / 4, x0 + (x1 - x0) * k / 4
            pdf.text(pdf.l_margin, sy(yv) + 1, f"{yv:.3g}")
            label = dates[int(round(xv))] if dated else f"{xv:.3g}"
            pdf.text(sx(xv) - 3, top + height + 4, self.text(label))
        pdf.text(left + width / 2 - 10, top + height + 8, self.text(unescape(fig.layout.xaxis.title.text or "")))
        with pdf.rotation(90, pdf.l_margin - 2, top + height / 2):
            pdf.text(pdf.l_margin - 12, top + height / 2 - 1, self.text(unescape(fig.layout.yaxis.title.text or "")))
        y_legend = top + height + 12
        for i, (t, x, y) in enumerate(zip(traces, xs, ys)):
            color = _rgb(t.line.color if t.line and t.line.color else "#2563eb")
            pdf.set_draw_color(*color)
            pdf.set_line_width(0.5 if t.line is None or t.line.dash in (None, "solid") else 0.25)
            pdf.polyline([(sx(a), sy(b)) for a, b in zip(x, y)])
            lx = pdf.l_margin + 14 + (i % 3) * 60
            ly = y_legend + (i // 3) * 4.5
            pdf.line(lx, ly - 1, lx + 6, ly - 1)
            self.font(7.5)
            pdf.text(lx + 8, ly, self.text(unescape(t.name or "")))
        pdf.set_line_width(0.2)
        pdf.set_y(y_legend + 4.5 * ((len(traces) + 2) // 3) + 2)

    def render(self, blocks) -> bytes:
        for b in blocks:
            kind = b[0]
            if kind in ("h1", "h2", "h3"):
                self.heading(kind, b[1])
            elif kind in ("p", "li"):
                self.paragraph(b[1], b[2], bullet=kind == "li")
            elif kind == "table":
                self.table(b[1])
            elif kind == "figs":
                self.figs(b[1])
            elif kind == "chart":
                self.chart()
        return bytes(self.pdf.output())


def build_report_pdf(run_dir) -> bytes:
    """The model card of the run saved in ``run_dir`` as PDF bytes: the HTML card's sections, figures,
    tables and texts (``build_report_html``), with the explanations chart as a table."""
    from core.store.registry import read_metadata
    from core.workspace.report import plot_own_curves, build_report_html, strip_secrets

    card = build_report_html(run_dir)  # checks the folder and reads the run as the HTML card does
    meta = strip_secrets(read_metadata(Path(run_dir)))
    ws = workspace(meta)
    imp = section(meta, "explain").get("importance")
    imp = imp if isinstance(imp, dict) else None
    blocks = parse_card(card)
    title = next((b[1] for b in blocks if b[0] == "h1"), "Model card")
    try:
        return _Writer(title, imp, plot_own_curves(ws)).render(blocks)
    except ImportError as exc:
        raise DataValidationError(
            f"The PDF card needs the fpdf2 package; got {exc}. Fix: pip install -r requirements.txt "
            "(or download the HTML card).") from exc


def _rgb(color: str) -> tuple[int, int, int]:
    """'#2563eb' -> (37, 99, 235); anything else (named colours) -> grey."""
    c = str(color).lstrip("#")
    if len(c) == 6:
        try:
            return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
        except ValueError:
            pass
    return (153, 153, 153)


def build_message_pdf(title: str, message: str) -> bytes:
    """A one-page PDF saying ``message``: what a download gets when its run went missing after the list was read."""
    return _Writer(title, None).render([("h1", title), ("p", [(message, False)], "normal")])


def get_pdf_filename(meta: dict) -> str:
    """``model-card-<run id>.pdf``, beside the HTML card's name."""
    from core.workspace.report import get_report_filename

    return get_report_filename(meta)[: -len(".html")] + ".pdf"
