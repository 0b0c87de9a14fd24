"""Images of the demo: the window with its panel, the panel alone, a ``top`` frame, and an
ordinary 800x600 application window with the panel docked.

``top.svg`` comes from rich's own SVG export; ``top.png`` is the same frame painted into a
``QImage`` with a monospace font, in rich's SVG colours, so it works offscreen (with the
``offscreen`` platform: ``minimal`` has no fonts and draws text as boxes).

The ``top`` frame is drawn by the command line's renderers, which sit above the demo (the
import contracts keep ``inspector`` from importing ``cli``): ``resinspect demo`` hands them
in as a :class:`TopRenderer`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QWidget
from rich.color_triplet import ColorTriplet

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.segment import Segment
    from rich.style import Style
    from rich.terminal_theme import TerminalTheme

    from inspector.metrics.snapshot import Snapshot
    from inspector.ui.source import MetricsSource

#: Columns of a ``top`` image at least (wider when an id needs it).
TOP_WIDTH = 100
_PAD = 16
_TITLE = "resinspect top"


def save_widget(widget: QWidget, path: Path) -> Path:
    """Grab ``widget`` as it is rendered now and save it (PNG by the suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


@dataclass(frozen=True)
class TopRenderer:
    """How ``resinspect top`` draws a frame, from the command line that owns its renderers."""

    #: One frame of ``top`` for a snapshot.
    frame: Callable[[Snapshot], RenderableType]
    #: Columns that show every table of the frame with its ids whole.
    plain_width: Callable[[Snapshot], int]
    #: The console ``top`` prints to on a stream (plain text unless it is a terminal).
    console: Callable[[TextIO], Console]


def frame_width(snapshot: Snapshot, renderer: TopRenderer, limit: int = 160) -> int:
    """The narrowest width (at least :data:`TOP_WIDTH`, at most ``limit`` unless an id needs
    more) at which the frame wraps nothing more than it would at ``limit``."""
    from rich.console import Console

    frame = renderer.frame(snapshot)

    def height(width: int) -> int:
        console = Console(file=io.StringIO(), width=width, force_terminal=False,
                          color_system=None)
        return len(console.render_lines(frame, console.options, pad=False))

    low = max(TOP_WIDTH, renderer.plain_width(snapshot))
    if low >= limit:
        return low
    best = height(limit)
    high = limit
    while low < high:  # lines only shrink as the width grows: bisect for the first best
        mid = (low + high) // 2
        if height(mid) > best:
            low = mid + 1
        else:
            high = mid
    return low


def top_console(snapshot: Snapshot, renderer: TopRenderer) -> Console:
    """A recording console holding one ``resinspect top`` frame of ``snapshot``, as wide as
    :func:`frame_width` says."""
    from rich.console import Console

    width = frame_width(snapshot, renderer)
    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", highlight=False, emoji=False)
    console.print(renderer.frame(snapshot))
    return console


def save_top(snapshot: Snapshot, svg_path: Path, png_path: Path, renderer: TopRenderer
             ) -> tuple[Path, Path]:
    """Write the ``top`` frame of ``snapshot`` as an SVG (rich) and a PNG (QPainter)."""
    from rich.terminal_theme import SVG_EXPORT_THEME

    console = top_console(snapshot, renderer)
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    console.save_svg(str(svg_path), title=_TITLE, theme=SVG_EXPORT_THEME, clear=False)
    image = paint_lines(console.render_lines(renderer.frame(snapshot), console.options))
    if not image.save(str(png_path)):
        raise OSError(f"could not write {png_path}")
    return svg_path, png_path


def paint_lines(lines: list[list[Segment]]) -> QImage:
    """Paint rendered lines into an image, cell by cell, in the colours of rich's SVGs."""
    from rich.cells import cell_len
    from rich.terminal_theme import SVG_EXPORT_THEME as theme

    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPixelSize(14)
    bold = QFont(font)
    bold.setBold(True)
    metrics = QFontMetricsF(font)
    # Cells of a fractional width (8.4 px at 14 px): every character is placed on its own
    # cell, so rounding never drifts a column out of line.
    cell, line_height = metrics.horizontalAdvance("M"), metrics.height()
    columns = max([1, *(sum(cell_len(s.text) for s in line) for line in lines)])
    background = QColor(*theme.background_color)
    image = QImage(int(columns * cell) + 2 * _PAD, int(len(lines) * line_height) + 2 * _PAD,
                   QImage.Format.Format_RGB32)
    image.fill(background)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        for row, line in enumerate(lines):
            column, top = 0, _PAD + row * line_height
            for segment in line:
                fg, bg, is_bold = _colours(segment.style, theme)
                width = cell_len(segment.text)
                if bg is not None:
                    painter.fillRect(QRectF(_PAD + column * cell, top, width * cell,
                                            line_height), QColor(*bg))
                painter.setFont(bold if is_bold else font)
                painter.setPen(QColor(*fg))
                for char in segment.text:
                    if not char.isspace():
                        painter.drawText(QPointF(_PAD + column * cell, top + metrics.ascent()),
                                         char)
                    column += cell_len(char)
    finally:
        painter.end()
    return image


def _colours(style: Style | None, theme: TerminalTheme
             ) -> tuple[ColorTriplet, ColorTriplet | None, bool]:
    """(foreground, background or None, bold) of a segment's style, as RGB triplets."""
    fg, bg = theme.foreground_color, None
    if style is None:
        return fg, bg, False
    if style.color is not None:
        fg = style.color.get_truecolor(theme, foreground=True)
    if style.bgcolor is not None:
        bg = style.bgcolor.get_truecolor(theme, foreground=False)
    if style.reverse:
        fg, bg = (bg or theme.background_color), fg
    if style.dim:  # halfway to the background, as terminals show it
        back = theme.background_color
        fg = ColorTriplet((fg.red + back.red) // 2, (fg.green + back.green) // 2,
                          (fg.blue + back.blue) // 2)
    return fg, bg, bool(style.bold)


def save_small_window(source: MetricsSource, path: Path, *, timeout_s: float = 20.0) -> Path:
    """An application's 800x600 window with the panel docked as ``attach(window)`` docks it
    (``inspector.ui.placement``): the window grows by the panel, its editor keeps 800x600.

    Needs a screen wide enough for both, or the panel floats and is not in the picture.
    """
    import time

    from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit

    from inspector.ui.placement import dock_panel

    window = QMainWindow()
    window.setWindowTitle("an 800x600 application")
    editor = QPlainTextEdit(window)
    editor.setPlainText("The application's own window, at its default size.\n" * 3)
    window.setCentralWidget(editor)
    window.resize(800, 600)
    panel = dock_panel(window, source, mode="docked", app="resinspect-screenshot")
    window.show()
    deadline = time.monotonic() + timeout_s
    while not panel.built and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    panel.refresh()
    QApplication.processEvents()
    try:
        return save_widget(window, path)
    finally:
        panel.retire(now=True)
        window.close()
        window.deleteLater()
