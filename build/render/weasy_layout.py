"""Layout answers WeasyPrint works out again for every box, kept instead (its internals).

Tested with the versions pyproject pins; ``tests/test_render.py`` checks that pages
laid out with them are the same, to the pixel and in their text, as pages without.
Measured by sampling a batch's render: WeasyPrint asks whether a box is in normal
flow about a thousand times a page (7% of the render) and resolves each box's
percentages, margins, paddings and borders afresh each time it lays it out (6%),
though a batch's pages share a few dozen styles.

- ``Box.is_in_normal_flow`` reads only the style's ``float`` and ``position``:
  the answer is kept for each pair of values.
- ``resolve_percentages`` sets a box's used margins, paddings, sizes and borders
  from its style, its containing block's size and the collapsed borders it already
  has: within ``quicker_layout``, what it set is kept for each of those and set
  again on the next box that has them.
- ``make_margin_boxes`` makes, styles and sizes a page's sixteen margin boxes, then
  keeps those with content (3% of the render). Within ``quicker_layout``, a page
  none of whose margin boxes has content makes none.
- ``iter_line_boxes`` lays out a block's text as lines (a quarter of the render),
  and most of a batch's blocks of text (labels, headings, table heads, notes) say
  the same on every page. Within ``quicker_layout``, the lines of a block whose
  inline content is only text and inline boxes, of the same texts and styles, in a
  container of the same size and place across, beside the same floats in the same
  places from its start, are laid out once and copied, moved down to where the block
  now starts; the copies' boxes belong to this page's elements.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from weasyprint import layout
from weasyprint.formatting_structure import boxes
from weasyprint.layout import absolute, block, column, grid, inline, page, percent, table
from weasyprint.layout import float as floats

from results_online.build.render.weasy_speed import batch_cache

unshared_in_normal_flow = boxes.Box.is_in_normal_flow
_IN_FLOW: dict[tuple[Any, Any], bool] = {}


def _is_in_normal_flow(self: Any) -> bool:
    style = self.style
    key = (style["float"], style["position"])
    try:
        return _IN_FLOW[key]
    except KeyError:
        found: bool = unshared_in_normal_flow(self)
        _IN_FLOW[key] = found
        return found
    except TypeError:  # a value that cannot be a key
        answer: bool = unshared_in_normal_flow(self)
        return answer


unshared_resolve_percentages = percent.resolve_percentages
# The modules that call resolve_percentages by the name they imported, and its own
# module, through which flex.py calls it.
_CALLERS = (absolute, block, column, floats, grid, inline, page, percent, table)
_BORDERS = ("border_top_width", "border_right_width", "border_bottom_width",
            "border_left_width")
_SET = ("margin_top", "margin_right", "margin_bottom", "margin_left", "padding_top",
        "padding_right", "padding_bottom", "padding_left", "width", "min_width",
        "max_width", "height", "min_height", "max_height", *_BORDERS)
_sizes = threading.local()  # this thread's cache while in quicker_layout, else None


def _resolve_percentages(box: Any, containing_block: Any) -> None:
    cache: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] | None = getattr(
        _sizes, "cache", None)
    if cache is None:
        unshared_resolve_percentages(box, containing_block)
        return
    if isinstance(containing_block, boxes.Box):
        size = (containing_block.width, containing_block.height)
    else:
        size = tuple(containing_block)
    # A collapsed border the box already has is kept, and box-sizing may read it.
    had = box.__dict__
    style = box.style
    key = (id(style), isinstance(box, boxes.PageBox), size,
           tuple(had.get(name) for name in _BORDERS))
    try:
        kept = cache.get(key)
    except TypeError:  # a size that cannot be a key
        unshared_resolve_percentages(box, containing_block)
        return
    if kept is not None and kept[0] is style:
        had.update(kept[1])
        return
    unshared_resolve_percentages(box, containing_block)
    cache[key] = (style, {name: had[name] for name in _SET})


unshared_margin_boxes = layout.make_margin_boxes
_MARGIN_BOXES = (
    *(f"@{edge}-{where}" for edge in ("top", "bottom") for where in ("left", "center", "right")),
    *(f"@{edge}-{where}" for edge in ("left", "right") for where in ("top", "middle", "bottom")),
    *(f"@{corner}-corner" for corner in ("top-left", "top-right", "bottom-left", "bottom-right")))


def _make_margin_boxes(context: Any, page_box: Any, state: Any) -> Iterator[Any]:
    if getattr(_sizes, "cache", None) is None or any(_has_content(
            context.style_for(page_box.page_type, name)) for name in _MARGIN_BOXES):
        yield from unshared_margin_boxes(context, page_box, state)


def _has_content(style: Any) -> bool:
    # What make_margin_boxes asks (a box no rule styles has the page's anonymous style,
    # whose content is normal); the user agent's rules style all sixteen, for alignment.
    return style is not None and style["content"] not in ("normal", "inhibit", "none")


unshared_line_boxes = block.iter_line_boxes
_lines = threading.local()  # this thread's cache while in quicker_layout, else None
# What a line's content may hold to be copied: no replaced, atomic or placeholder box.
_INLINE = (boxes.TextBox, boxes.InlineBox)


def _line_boxes(context: Any, box: Any, position_y: float, *rest: Any) -> Iterator[Any]:
    """iter_line_boxes; within quicker_layout, the lines of a block laid out before, copied."""
    bottom_space, skip_stack, containing_block, _, _, first_letter, first_line = rest
    cache: dict[tuple[Any, ...], tuple[Any, float, list[Any], list[Any]]] | None = getattr(
        _lines, "cache", None)
    elements = [box.element]
    content = None
    if cache is not None and skip_stack is None and first_letter is None and first_line is None:
        content = _content(box, elements)
    if cache is None or content is None:
        yield from unshared_line_boxes(context, box, position_y, *rest)
        return
    # The floats lines may have to go around, where they lie from the block's start.
    beside = tuple((shape.position_x, shape.position_y - position_y, shape.margin_width(),
                    shape.margin_height(), shape.style["float"])
                   for shape in context.excluded_shapes
                   if shape.position_y + shape.margin_height() > position_y)
    key: tuple[Any, ...] = (id(box.style), content, containing_block.content_box_x(),
                            containing_block.width, containing_block.height, bottom_space, beside)
    try:
        kept = cache.get(key)
    except TypeError:  # a size that cannot be a key
        kept, key = None, ()
    if kept is not None and kept[0] is box.style:
        # What iter_line_boxes sets on the block's own line box before its lines.
        _resolve_percentages(box, containing_block)
        percent.resolve_one_percentage(box, "text_indent", containing_block.width)
        _, laid_at, laid_for, lines = kept
        now_for = {id(old): new for old, new in zip(laid_for, elements, strict=True)}
        for line, resume_at in lines:
            copy = line.deepcopy()
            copy.translate(dy=position_y - laid_at)
            for part in copy.descendants():
                part.element = now_for.get(id(part.element), part.element)
            yield copy, resume_at
        return
    made = []
    for line, resume_at in unshared_line_boxes(context, box, position_y, *rest):
        made.append((line.deepcopy(), resume_at))
        yield line, resume_at
    if key:  # (a caller that stops early, at a page break, has closed this before here)
        cache[key] = (box.style, position_y, elements, made)


def _content(box: Any, elements: list[Any]) -> tuple[Any, ...] | None:
    """The texts and styles of the box's inline content, its elements into ``elements``."""
    found = []
    for child in box.children:
        kind = type(child)
        if kind not in _INLINE:
            return None
        elements.append(child.element)
        if kind is boxes.TextBox:
            found.append((id(child.style), child.text))
        else:
            inner = _content(child, elements)
            if inner is None:
                return None
            found.append((id(child.style), inner))
    return tuple(found)


@contextmanager
def quicker_layout() -> Iterator[None]:
    """Within it, used sizes and recurring lines are laid out once, and no empty margin box made."""
    # The caches live for one batch and hold each style they key, so no id is reused.
    boxes.Box.is_in_normal_flow = _is_in_normal_flow
    for module in _CALLERS:
        module.resolve_percentages = _resolve_percentages
    layout.make_margin_boxes = _make_margin_boxes
    block.iter_line_boxes = _line_boxes
    with batch_cache(_sizes), batch_cache(_lines):
        yield
