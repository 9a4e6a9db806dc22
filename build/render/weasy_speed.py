"""Speed-ups to writing a batch's PDFs that reach into WeasyPrint and pydyf internals.

weasy.py is the rest of the code that does; weasy_document.py, weasy_styles.py and
weasy_layout.py speed up making the document the PDFs are written from. Tested with the versions
pyproject pins; ``tests/test_render.py`` checks that pages drawn with them are the
same, to the pixel and in their text, as pages drawn without.

- ``serialise_once``: pydyf writes every object of a PDF, then serialises and
  compresses all of them again to hash the file for its identifier (PDF/A needs
  one), a quarter of the writing time. Called from the finisher, after which nothing
  changes an object, it has each object keep its bytes from the first time. Its
  streams are deflated at zlib's default level, not pydyf's 9: 2.4 ms of CPU a
  statement instead of 4.4 for 0.7% more bytes; and a stream every statement
  repeats (the sRGB profile, the frame's shared parts) is deflated once a process.
- ``quicker_tokens``: pydyf's conversion of each operand to bytes, with the common
  types tried first.
- ``shared_font_subsets``: each page's PDF has its own font subsets, and most pages
  of a batch use the same glyphs of a face as another page (510 subsets for 200
  statements, 205 of them different): within it, a face cut down to the same glyphs
  is cut once a batch.
- ``shared_text_drawing``: drawing a line of text walks its glyphs in Python, and a
  line every page shares (weasy_document.py) drew the same operators on every page.
  Within it, such a line is drawn once a batch: later pages get its operators, put
  where the line now starts, and its glyphs noted in their own fonts.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pydyf
from weasyprint.draw import text
from weasyprint.pdf.fonts import Font


def serialise_once(pdf: Any) -> None:
    """Have each of the file's objects serialised (and its streams compressed) only once."""
    for obj in pdf.objects:
        if obj.free != "f":
            obj.__class__ = _once(type(obj))


_ONCE: dict[type, type] = {}


def _once(cls: type) -> type:
    """A subclass of the pydyf object type ``cls`` that keeps its serialised bytes."""
    if cls in _ONCE:
        return _ONCE[cls]
    serialise = cls.data.fget  # type: ignore[attr-defined]
    if serialise is _STREAM_DATA:
        serialise = _stream_data

    def data(self: Any) -> bytes:
        kept: bytes | None = self.__dict__.get("_results_data")
        if kept is None:
            kept = self.__dict__["_results_data"] = serialise(self)
        return kept

    made = _ONCE[cls] = type(cls.__name__, (cls,), {"data": property(data)})
    return made


_STREAM_DATA = pydyf.Stream.data.fget
_DEFLATED: dict[bytes, bytes] = {}  # a raw stream's digest: its deflated bytes
_DEFLATED_KEPT = 64  # streams kept: enough for what every page repeats, and bounded


def _stream_data(self: Any) -> bytes:
    """pydyf's Stream.data, deflated at the default level and once for a repeated stream."""
    stream = b"\n".join(pydyf._to_bytes(item) for item in self.stream)
    extra = pydyf.Dictionary(self.extra.copy())
    if self.compress:
        extra["Filter"] = "/FlateDecode"
        stream = _deflated(stream)
    extra["Length"] = len(stream)
    return b"\n".join((extra.data, b"stream", stream, b"endstream"))


def _deflated(raw: bytes) -> bytes:
    """``raw`` deflated at zlib's default level; a stream deflated before, from the cache."""
    key = hashlib.blake2b(raw, digest_size=16).digest()
    kept = _DEFLATED.get(key)
    if kept is None:
        kept = zlib.compress(raw)
        if len(_DEFLATED) >= _DEFLATED_KEPT:
            _DEFLATED.clear()
        _DEFLATED[key] = kept
    return kept


unquick_to_bytes = pydyf._to_bytes


def _to_bytes(item: Any) -> bytes:
    """pydyf's _to_bytes, the same bytes, the types most operands have tried first."""
    kind = type(item)
    if kind is bytes:
        return item  # type: ignore[no-any-return]
    if kind is str:
        return item.encode("ascii")  # type: ignore[no-any-return]
    if kind is int:
        return b"%d" % item
    return unquick_to_bytes(item)  # type: ignore[no-any-return]


@contextmanager
def quicker_tokens() -> Iterator[None]:
    """Within it, pydyf turns names, numbers and operators into bytes with ``_to_bytes``.

    Its own asks isinstance about bytes, float and its Object first: 835,000 calls for
    200 statements, a tenth of writing their PDFs. Any thread that writes a PDF
    meanwhile gets the same bytes either way.
    """
    pydyf._to_bytes = _to_bytes
    try:
        yield
    finally:
        pydyf._to_bytes = unquick_to_bytes


unshared_clean = Font.clean
_subsets = threading.local()  # this thread's cache while in shared_font_subsets, else None


def _clean(self: Any, to_unicode: dict[int, str], hinting: bool) -> None:
    """Font.clean; within shared_font_subsets, a subset cut before is taken from the cache."""
    cache: dict[tuple[Any, ...], tuple[bytes, dict[str, Any]]] | None = getattr(
        _subsets, "cache", None)
    if cache is None:
        unshared_clean(self, to_unicode, hinting)
        return
    # What clean reads: the face (its description's hash, which one font
    # configuration maps to one file), the glyphs, and how a variable face is set.
    key = (self.hash, self.index, self.glyph_count, len(self.file_content),
           tuple(sorted(to_unicode)), hinting, tuple(sorted(self.missing.items())),
           tuple(sorted(self.variations.items())), self.weight, self.font_size, self.style)
    kept = cache.get(key)
    if kept is None:
        unshared_clean(self, to_unicode, hinting)
        cache[key] = self.file_content, dict(self.variations)
    else:
        self.file_content = kept[0]
        self.variations.update(kept[1])


@contextmanager
def shared_font_subsets() -> Iterator[None]:
    """Within it, a face cut down to the same glyphs for another page is cut once."""
    # One batch, one font configuration: the cache never outlives the faces it names.
    Font.clean = _clean
    with batch_cache(_subsets):
        yield


@contextmanager
def batch_cache(local: threading.local) -> Iterator[None]:
    """``local.cache``, this thread's dict until the block ends (an outer block's, if any)."""
    outer = getattr(local, "cache", None)
    local.cache = {} if outer is None else outer
    try:
        yield
    finally:
        local.cache = outer


unshared_first_line = text.draw_first_line
_drawn = threading.local()  # this thread's cache while in shared_text_drawing, else None
# A drawn line: its layout, then each font's face and glyphs (id: text, width), its operators.
_Drawn = tuple[Any, list[tuple[Any, dict[int, tuple[str, int]]]], list[Any]]


def _draw_first_line(stream: Any, box: Any, overflow: str, ellipsis: str, matrix: Any,
                     ) -> list[Any]:
    """draw_first_line; within shared_text_drawing, a shared line drawn before is copied."""
    cache: dict[tuple[int, str], _Drawn] | None = getattr(_drawn, "cache", None)
    layout = box.pango_layout
    if (cache is None or overflow == "ellipsis" or ellipsis != "none"
            or not layout.__dict__.get("_results_shared")):
        return unshared_first_line(stream, box, overflow, ellipsis, matrix)  # type: ignore[no-any-return]
    key = (id(layout), box.text)
    kept = cache.get(key)
    if kept is not None and kept[0] is layout:
        stream.set_text_matrix(*matrix.values)
        for face, glyphs in kept[1]:
            font = stream.add_font(face)[0]
            for glyph, (chars, width) in glyphs.items():
                if glyph not in font.to_unicode:  # as drawn: in visual order already
                    dict.__setitem__(font.to_unicode, glyph, chars)
                font.widths.setdefault(glyph, width)
        stream.stream.extend(kept[2])
        return []
    start, fonts = len(stream.stream), _NotedFonts(stream)
    try:
        emojis: list[Any] = unshared_first_line(stream, box, overflow, ellipsis, matrix)
    finally:
        used = fonts.close()
    drawn = stream.stream[start:]
    if not emojis and used is not None and drawn and drawn[0] == _text_matrix(matrix):
        cache[key] = (layout, used, drawn[1:])
    return emojis


def _text_matrix(matrix: Any) -> Any:
    """The operator that sets ``matrix`` as the text matrix, as pydyf writes it."""
    scratch = pydyf.Stream()
    scratch.set_text_matrix(*matrix.values)
    return scratch.stream[0]


class _NotedFonts:
    """While open, the fonts a line is drawn in and the glyphs it draws of each."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.add_font = stream, stream.add_font
        self.fonts: dict[int, tuple[Any, Any, _Noting, int]] = {}
        stream.add_font = self._add_font

    def _add_font(self, face: Any) -> tuple[Any, float]:
        font, size = self.add_font(face)
        if id(font) not in self.fonts:
            noting = _Noting(font.widths)
            font.widths = noting
            self.fonts[id(font)] = (face, font, noting, len(font.missing))
        return font, size

    def close(self) -> list[tuple[Any, dict[int, tuple[str, int]]]] | None:
        """Each font's face and glyphs drawn; None if a glyph was missing from its font."""
        self.stream.add_font = self.add_font
        used: list[tuple[Any, dict[int, tuple[str, int]]]] | None = []
        for face, font, noting, missing in self.fonts.values():
            font.widths = dict(noting)
            if used is not None and len(font.missing) == missing:
                used.append((face, {glyph: (font.to_unicode[glyph], font.widths[glyph])
                                    for glyph in noting.seen}))
            else:
                used = None  # a .notdef glyph: its id is the font's own, so draw it afresh
        return used


class _Noting(dict[int, int]):
    """A font's glyph widths that note each glyph drawing asks about, in drawing order."""

    def __init__(self, widths: dict[int, int]) -> None:
        super().__init__(widths)
        # In order: the font's ToUnicode map lists glyphs in the order they were first drawn.
        self.seen: dict[int, None] = {}

    def __contains__(self, glyph: object) -> bool:
        self.seen[glyph] = None  # type: ignore[index]
        return dict.__contains__(self, glyph)


@contextmanager
def shared_text_drawing() -> Iterator[None]:
    """Within it, a line of text every page shares is drawn once and copied."""
    # One batch: the cache holds each layout it keys by id, so no id is reused.
    text.draw_first_line = _draw_first_line
    with batch_cache(_drawn):
        yield
