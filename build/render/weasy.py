"""The one place that uses WeasyPrint internals (tested with the versions pyproject pins).

The batched render path lays out a batch as one document and writes each page as
its own PDF; it draws each QR code straight into the page's content stream. Those
need three things WeasyPrint does not document: a page's anchor boxes, its
``paint`` method, and pydyf's list of stream operators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from weasyprint.document import Page

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in CSS px from the top-left corner


class PathSink(Protocol):
    """The part of a PDF content stream (WeasyPrint's pydyf.Stream) the QR drawing uses."""

    def transform(self, *, a: float, d: float, e: float, f: float) -> None: ...
    def set_color_rgb(self, r: float, g: float, b: float, stroke: bool = False) -> None: ...
    def fill(self, even_odd: bool = False) -> None: ...


def append_operators(stream: PathSink, operators: bytes) -> None:
    """Write raw content-stream operators, as pydyf keeps them, in one block."""
    raw: list[Any] = stream.stream  # type: ignore[attr-defined]
    raw.append(operators)


def anchor(page: Page, name: str) -> Box | None:
    """The box of the element with ``id=name`` on this page, or None."""
    box: Box | None = page.anchors.get(name)
    return box


@contextmanager
def painting_after(page: Page, draw: Callable[[PathSink], None]) -> Iterator[None]:
    """While inside, writing the page also runs ``draw`` after its own content, unscaled CSS px."""
    paint = page.paint

    def paint_then_draw(stream: Any, scale: float = 1) -> None:
        paint(stream, scale)
        with stream.stacked():
            stream.transform(a=scale, d=scale)
            draw(stream)

    page.paint = paint_then_draw
    try:
        yield
    finally:
        del page.paint  # the override refers to the page: a cycle only gc would free
