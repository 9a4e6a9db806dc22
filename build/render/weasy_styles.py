"""Styles computed once for a batch's pages that have the same markup (WeasyPrint internals).

Tested with the versions pyproject pins; ``tests/test_render.py`` checks that pages
with styles shared this way are the same bytes as pages without.

WeasyPrint's cascade matches every selector of the user-agent and print sheets
against every element of the document and weighs what matched (a tenth of the render),
though most pages of a batch are the same elements with the same attributes, only
their text differing. Within ``shared_page_styles``, a page (a child of ``<body>``)
whose elements, attributes and places (the page's first or last among its siblings,
each element's text empty or not) are those of an earlier page is left out of the
cascade, and each of its elements gets the styles computed for the same element of
that page. What a selector can see of an element is its own and its ancestors' tags
and attributes, its siblings, children and emptiness: within a page all of it is the
same, and among pages only first and last differ (the print sheet styles the last
sheet; ``tests/test_render.py`` checks it uses no other sibling selector).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.etree.ElementTree import Element

from weasyprint.css import StyleFor

from results_online.build.render.weasy_speed import batch_cache

unshared_style_for = StyleFor.__init__
_pages = threading.local()  # this thread's (empty) cache while in shared_page_styles, else None


def _style_for(self: Any, html: Any, *rest: Any) -> None:
    """StyleFor.__init__; within shared_page_styles, a repeated page's styles are copied."""
    copies = [] if getattr(_pages, "cache", None) is None else _copies(html.etree_element)
    if not copies:
        unshared_style_for(self, html, *rest)
        return
    wrapper = html.wrapper_element
    html.wrapper_element = _Without(wrapper, {id(copy) for copy, _ in copies})
    try:
        unshared_style_for(self, html, *rest)
    finally:
        html.wrapper_element = wrapper
    computed = self._computed_styles
    pseudo: dict[int, list[str]] = {}
    for element, kind in computed:
        if kind is not None:
            pseudo.setdefault(id(element), []).append(kind)
    for copy, first in copies:
        for mine, its in zip(copy.iter(), first.iter(), strict=True):
            computed[mine, None] = computed[its, None]
            for kind in pseudo.get(id(its), ()):
                computed[mine, kind] = computed[its, kind]


def _copies(root: Element) -> list[tuple[Element, Element]]:
    """Each page whose markup an earlier page has, with that page."""
    body = next((child for child in root if _local(child.tag) == "body"), None)
    if body is None:
        return []
    seen: dict[tuple[Any, ...], Element] = {}
    found = []
    last = len(body) - 1
    for i, page in enumerate(body):
        shape = (i == 0, i == last, tuple(
            (e.tag, tuple(sorted(e.attrib.items())), bool(e.text), bool(e.tail), len(e))
            for e in page.iter()))
        first = seen.setdefault(shape, page)
        if first is not page:
            found.append((page, first))
    return found


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Without:
    """A document's cssselect2 wrapper whose subtree leaves out some elements' subtrees."""

    def __init__(self, wrapper: Any, left_out: set[int]) -> None:
        self.wrapper, self.left_out = wrapper, left_out

    def iter_subtree(self) -> Iterator[Any]:
        """The wrapper's elements in tree order, those left out and their descendants apart."""
        stack = [self.wrapper]
        while stack:
            element = stack.pop()
            yield element
            children = [c for c in element.iter_children()
                        if id(c.etree_element) not in self.left_out]
            stack.extend(reversed(children))


@contextmanager
def shared_page_styles() -> Iterator[None]:
    """Within it, a page with the markup of an earlier page of its document copies its styles."""
    StyleFor.__init__ = _style_for
    with batch_cache(_pages):  # its presence is the switch: nothing is kept in it
        yield
