"""Speed-ups to writing a batch's PDFs that reach into WeasyPrint and pydyf internals.

weasy.py is the rest of the code that does; weasy_document.py and weasy_layout.py
speed up making the document the PDFs are written from. Tested with the versions
pyproject pins; ``tests/test_render.py`` checks that pages drawn with them are the
same, to the pixel and in their text, as pages drawn without.

- ``serialise_once``: pydyf writes every object of a PDF, then serialises and
  compresses all of them again to hash the file for its identifier (PDF/A needs
  one), a quarter of the writing time. Called from the finisher, after which nothing
  changes an object, it has each object keep its bytes from the first time. Its
  streams are deflated at zlib's default level, not pydyf's 9: 2.4 ms of CPU a
  statement instead of 4.4 for 0.7% more bytes; and a stream every statement
  repeats (the sRGB profile, the frame's shared parts) is deflated once a process.
- ``shared_font_subsets``: each page's PDF has its own font subsets, and most pages
  of a batch use the same glyphs of a face as another page (510 subsets for 200
  statements, 205 of them different): within it, a face cut down to the same glyphs
  is cut once a batch.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pydyf
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
