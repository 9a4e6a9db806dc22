"""Speed-ups to making a batch's document that reach into WeasyPrint internals.

Its HTML parsed, its styles computed and its lines of text broken (a repeated page's
styles are copied in weasy_styles.py, laying out its boxes is sped up in
weasy_layout.py, writing its PDFs in weasy_speed.py). Tested with
the versions pyproject pins; ``tests/test_render.py`` checks that pages drawn with them
are the same, to the pixel and in their text, as pages drawn without.

- ``shared_line_breaks``: most of a batch's text (labels, headings, notes, the
  centre, the series, the dates, most results) is the same on every page, and Pango
  shaped and broke every copy again: 2,101 line breaks for 50 statements, 608 when
  shared. Within it, WeasyPrint's ``split_first_line`` is looked up by its text,
  width and every style property line breaking and shaping read; what it returns
  is a deactivated layout that drawing reactivates, so boxes can share it; once
  reactivated, it stays ready until the batch ends instead of being made again on
  every page that draws it.
- ``shared_pseudo_styles``: WeasyPrint's user-agent sheet has rules for six
  pseudo-elements of every element (``::marker``, ``::footnote-call`` and the like),
  and it computes those styles for every element of the document, sharing none,
  though it shares the elements' own when they are equal: 392 styles a statement.
  Within it, a pseudo-element whose element has the same (shared) style and whose
  cascade holds the same declarations gets the style already computed for it.
- ``parsed_html``: tinyhtml5, WeasyPrint's HTML parser, is pure Python and took 1.9
  ms a statement; the print HTML is also well-formed XML, which expat parses into
  the same tree (the tests compare the two) in a thirtieth of the time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

import cssselect2
from weasyprint import HTML
from weasyprint.css import StyleFor
from weasyprint.layout import inline
from weasyprint.text.line_break import Layout
from weasyprint.urls import URLFetcher

# What a line of text's breaking and shaping depends on besides its text and width
# (WeasyPrint's text/line_break.py and text/fonts.py read these, and no others).
_LINE_STYLE = (
    "font_family", "font_style", "font_stretch", "font_weight", "font_size", "line_height",
    "font_variant_ligatures", "font_variant_position", "font_variant_caps",
    "font_variant_numeric", "font_variant_alternates", "font_variant_east_asian",
    "font_feature_settings", "font_variation_settings", "font_language_override",
    "font_kerning", "lang", "direction", "letter_spacing", "word_spacing", "white_space",
    "tab_size", "overflow_wrap", "word_break", "hyphens", "hyphenate_character",
    "hyphenate_limit_zone", "hyphenate_limit_chars", "text_decoration_line")


_unshared_split = inline.split_first_line
_lines = threading.local()  # this thread's cache while in shared_line_breaks, else None


def _split_first_line(text: str, style: Any, context: Any, *width: Any, **start: Any) -> Any:
    """split_first_line; within shared_line_breaks, a line broken before is taken from the cache."""
    # width: max_width, justification_spacing; start: is_line_start (and minimum)
    cache: dict[tuple[Any, ...], Any] | None = getattr(_lines, "cache", None)
    if cache is None:
        return _unshared_split(text, style, context, *width, **start)
    key = (text, width, tuple(start.items()), *(style[name] for name in _LINE_STYLE))
    try:
        return cache[key]
    except KeyError:
        found = cache[key] = _unshared_split(text, style, context, *width, **start)
        found[0].__dict__["_results_shared"] = True
        return found
    except TypeError:  # a value that cannot be a key: break this line afresh
        return _unshared_split(text, style, context, *width, **start)


_unshared_reactivate = Layout.reactivate
_unshared_deactivate = Layout.deactivate


def _reactivate(self: Any, style: Any) -> None:
    """Layout.reactivate; a shared line made ready stays so until the batch ends."""
    if self.__dict__.get("_results_live"):
        return
    _unshared_reactivate(self, style)
    live: list[Any] | None = getattr(_lines, "live", None)
    if live is not None and self.__dict__.get("_results_shared"):
        self.__dict__["_results_live"] = True
        live.append(self)


def _deactivate(self: Any) -> None:
    """Layout.deactivate, but not of a shared line kept ready for the batch."""
    if not self.__dict__.get("_results_live"):
        _unshared_deactivate(self)


@contextmanager
def shared_line_breaks() -> Iterator[None]:
    """Within it, the same text in the same style and width is shaped and broken once."""
    # The cache is per thread (a Dask worker may run batches in threads) and lives for
    # one batch; outside one the wrapper breaks lines as WeasyPrint does. A shared line,
    # once made ready to draw, stays ready until the batch ends: drawing it on each page
    # made its Pango layout and shaped its text again every time.
    inline.split_first_line = _split_first_line
    Layout.reactivate, Layout.deactivate = _reactivate, _deactivate
    outer = getattr(_lines, "cache", None), getattr(_lines, "live", None)
    _lines.cache = {} if outer[0] is None else outer[0]
    _lines.live = [] if outer[1] is None else outer[1]
    try:
        yield
    finally:
        if outer[1] is None:
            for layout in _lines.live:
                del layout.__dict__["_results_live"]
                _unshared_deactivate(layout)
        _lines.cache, _lines.live = outer


_unshared_style = StyleFor.set_computed_styles
_styles = threading.local()  # this thread's switch while in shared_pseudo_styles


def _set_computed_styles(self: Any, element: Any, parent: Any, root: Any = None,
                         pseudo_type: str | None = None, **rest: Any) -> None:
    """StyleFor.set_computed_styles; within shared_pseudo_styles, equal pseudo styles shared."""
    if (pseudo_type is None or parent is not element or not hasattr(element, "tag")
            or not getattr(_styles, "on", False)):  # page margin boxes have no tag
        _unshared_style(self, element, parent, root, pseudo_type, **rest)
        return
    # A computed style is a function of its parent's, its cascade and the document's
    # settings: the element's own style object (shared when equal) and the ids of the
    # stylesheet's declaration values (the same objects for every element a rule
    # matches) say when two are equal.
    cascaded = self.get_cascaded_styles().get((element, pseudo_type), {})
    computed = self.get_computed_styles()
    key = (pseudo_type, id(computed[element, None]),
           tuple((name, id(values), weight) for name, (values, weight) in cascaded.items()))
    known: dict[tuple[Any, ...], Any] = self.__dict__.setdefault("_results_pseudo", {})
    try:
        computed[element, pseudo_type] = known[key]
        return
    except KeyError:
        pass
    except TypeError:  # a weight that cannot be a key: compute this one afresh
        _unshared_style(self, element, parent, root, pseudo_type, **rest)
        return
    _unshared_style(self, element, parent, root, pseudo_type, **rest)
    known[key] = computed[element, pseudo_type]


@contextmanager
def shared_pseudo_styles() -> Iterator[None]:
    """Within it, equal pseudo-element styles of a document are computed once and shared."""
    StyleFor.set_computed_styles = _set_computed_styles
    outer = getattr(_styles, "on", False)
    _styles.on = True
    try:
        yield
    finally:
        _styles.on = outer


_XMLNS = "{http://www.w3.org/2000/xmlns/}xmlns"


class _Html5Tree:
    """An expat target that builds the tree tinyhtml5 builds from the same markup."""

    def __init__(self) -> None:
        self._builder = TreeBuilder()
        self._namespace: str | None = None

    def start_ns(self, prefix: str, uri: str) -> None:
        """Note a default namespace, for the element it is declared on."""
        # tinyhtml5 keeps a foreign element's xmlns as an attribute; expat consumes it.
        if not prefix:
            self._namespace = uri

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        """Open an element, with the xmlns attribute tinyhtml5 keeps on a foreign one."""
        if self._namespace is not None:
            attrs[_XMLNS], self._namespace = self._namespace, None
        return self._builder.start(tag, attrs)

    def end(self, tag: str) -> Element:
        """Close the element ``tag``."""
        return self._builder.end(tag)

    def data(self, data: str) -> None:
        """Add text to the open element."""
        self._builder.data(data)

    def close(self) -> Element:
        """The root, its white space placed where an HTML parser places it."""
        root = self._builder.close()
        # HTML drops the white space before <head> and puts what follows </body> at
        # the end of the body.
        root.text = None
        body = root.find("body")
        if body is not None:
            after, body.tail, root.tail = (body.tail or "") + (root.tail or ""), None, None
            last = body[-1] if len(body) else None
            if last is None:
                body.text = (body.text or "") + after or None
            else:
                last.tail = (last.tail or "") + after or None
        return root


def parsed_html(markup: str) -> HTML:
    """``HTML(string=markup)``, parsed by expat when the markup is well-formed XML."""
    # Our template's output: user text in it is escaped, so it declares no entities.
    parser = XMLParser(target=_Html5Tree())  # noqa: S314
    try:
        parser.feed(markup)
        root: Element = parser.close()
    except ParseError:
        return HTML(string=markup)
    html: Any = HTML.__new__(HTML)  # what HTML.__init__ sets, from our tree
    html.base_url, html.url_fetcher, html.media_type = None, URLFetcher(), "print"
    html.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
    html.etree_element = html.wrapper_element.etree_element
    out: HTML = html
    return out
