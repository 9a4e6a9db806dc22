"""The one place that uses WeasyPrint internals (tested with the versions pyproject pins).

Every PDF the build writes is tagged PDF/A-3u and PDF/UA-1, and the batched render
path lays out a batch as one document and writes each page as its own PDF, drawing
each QR code straight into the page. That needs what WeasyPrint does not document: a
page's anchor boxes and its ``paint`` method, its PDF stream's marked-content
bookkeeping and font map, its XMP writer, and pydyf's list of stream operators.
What it adds:

- ``archival_pdf``: the variant (PDF/A-3u: sRGB output intent, XMP with the
  identification schema, embedded fonts, ToUnicode) with tags (structure tree,
  MarkInfo, ``DisplayDocTitle``), title, language and a creation date the caller
  gives, plus ``pdfuaid:part`` 1 declared by a PDF/A extension schema (WeasyPrint
  writes one identification only).
- Text that extracts as it reads. Poppler and MuPDF read a glyph that stands for
  several characters (a ligature, a cluster) in visual order: in a left-to-right
  run they split or reorder Devanagari clusters (``पटेल`` came out ``पटे ल``), in a
  right-to-left run they reverse the glyph's characters with the run (Arabic
  lam-alef ``لأ`` came out ``أل``). So a left-to-right run outside ASCII carries
  its characters as ActualText, and a right-to-left glyph of several characters
  maps (ToUnicode) to them in visual order, which both read back in logical
  order. (ActualText on a right-to-left run is reversed by both, so it is not used
  there.)
- Header cells with a Scope, an IDTree for the element ids table cells refer to, and
  Figure bounding boxes in PDF user space.
- Speed (weasy_speed.py, weasy_document.py, weasy_styles.py and weasy_layout.py, the
  other modules that reach into WeasyPrint and pydyf): each PDF object serialised and
  compressed once, a face cut to the same glyphs once a batch, a line every page
  shares drawn once (weasy_speed.py); a line of text that recurs across a batch's
  pages shaped and broken once, equal pseudo-element styles shared, the print HTML
  parsed by expat (weasy_document.py); a page with an earlier page's markup given
  its styles (weasy_styles.py); a box's used sizes and flow resolved once per style,
  a block of text laid out before copied (weasy_layout.py).
- Figures drawn by the caller into an inline ``<svg>`` slot, inside the slot's
  own tagged Figure (its ``<title>`` is the alternative text), so that drawing
  fast vector content (the QR) keeps the page fully tagged.
- The same bytes on any day: WeasyPrint opens an emoji or variable face with
  fontTools to strip or instance it, and fontTools stamps a face it saves with
  the time of saving, so a statement with an emoji in its name came out different
  each time it was rendered. Such a face keeps its own modification time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from unicodedata import bidirectional
from xml.etree.ElementTree import Element, SubElement, fromstring, register_namespace, tostring

import pydyf
import weasyprint
import weasyprint.pdf.fonts
from fontTools.ttLib import TTFont
from weasyprint.document import Document, DocumentMetadata, Page
from weasyprint.formatting_structure.boxes import TextBox

from results_online.build.render.weasy_speed import serialise_once

PDF_VARIANT = "pdf/a-3u"
PDF_UA_PART = 1
# Drawn into a slot: (stream, x, y, width, height) in CSS px, y pointing down.
Painter = Callable[[Any, float, float, float, float], None]
Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in CSS px from the top-left corner

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_NS = {
    "pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}
for _prefix, _uri in _NS.items():
    register_namespace(_prefix, _uri)


def _keeping_its_date(file: Any, *args: Any, **kwargs: Any) -> TTFont:
    """A face as fontTools opens it, saved with its own modification time, not today's."""
    return TTFont(file, *args, recalcTimestamp=False, **kwargs)


weasyprint.pdf.fonts.TTFont = _keeping_its_date


class PathSink(Protocol):
    """The part of a PDF content stream (WeasyPrint's pydyf.Stream) the QR drawing uses."""

    def transform(self, *, a: float, d: float, e: float, f: float) -> None: ...
    def set_color_rgb(self, r: float, g: float, b: float, stroke: bool = False) -> None: ...
    def fill(self, even_odd: bool = False) -> None: ...


def append_operators(stream: PathSink, operators: bytes) -> None:
    """Write raw content-stream operators, as pydyf keeps them, in one block."""
    raw: list[Any] = stream.stream  # type: ignore[attr-defined]
    raw.append(operators)


def draw_form(stream: Any, operators: bytes, bbox: Box) -> None:
    """Draw ``operators`` as a form XObject of the page (its own object, like an image)."""
    # The same operators on many pages make the same stream, which serialise_once
    # deflates once a process; the page's content stream only names it.
    forms = stream._resources["XObject"]
    name = f"f{len(forms)}"
    forms[name] = pydyf.Stream([operators], extra=pydyf.Dictionary({
        "Type": "/XObject", "Subtype": "/Form", "BBox": pydyf.Array(bbox),
        "Resources": pydyf.Dictionary()}), compress=stream.compress)
    stream.draw_x_object(name)


def anchor(page: Page, name: str) -> Box | None:
    """The box of the element with ``id=name`` on this page, or None."""
    box: Box | None = page.anchors.get(name)
    return box


class _ArchivalMetadata(DocumentMetadata):  # type: ignore[misc]
    """WeasyPrint's metadata, with the PDF/UA identification next to the PDF/A one."""

    def generate_rdf_metadata(self, variant: str, version: int, conformance: str) -> bytes:
        # Our own XML, just written by WeasyPrint from our metadata.
        rdf = fromstring(super().generate_rdf_metadata(variant, version, conformance))  # noqa: S314
        about = {f"{{{_RDF}}}about": ""}
        SubElement(rdf, f"{{{_RDF}}}Description", about).set(
            f"{{{_NS['pdfuaid']}}}part", str(PDF_UA_PART))
        rdf.append(_extension_schema(about))
        out: bytes = tostring(rdf, encoding="utf-8")
        return out


def _extension_schema(about: dict[str, str]) -> Element:
    """The PDF/A extension schema that declares pdfuaid:part (PDF/A-3 6.6.2.3)."""
    desc = Element(f"{{{_RDF}}}Description", about)
    bag = SubElement(SubElement(desc, f"{{{_NS['pdfaExtension']}}}schemas"), f"{{{_RDF}}}Bag")
    schema = SubElement(bag, f"{{{_RDF}}}li", {f"{{{_RDF}}}parseType": "Resource"})
    for key, text in (("schema", "PDF/UA Universal Accessibility Schema"),
                      ("namespaceURI", _NS["pdfuaid"]), ("prefix", "pdfuaid")):
        SubElement(schema, f"{{{_NS['pdfaSchema']}}}{key}").text = text
    seq = SubElement(SubElement(schema, f"{{{_NS['pdfaSchema']}}}property"), f"{{{_RDF}}}Seq")
    prop = SubElement(seq, f"{{{_RDF}}}li", {f"{{{_RDF}}}parseType": "Resource"})
    for key, text in (("name", "part"), ("valueType", "Integer"), ("category", "internal"),
                      ("description", "Indicates, which part of ISO 14289 standard is followed")):
        SubElement(prop, f"{{{_NS['pdfaProperty']}}}{key}").text = text
    return desc


def metadata(*, title: str, author: str, lang: str, created: datetime) -> DocumentMetadata:
    """Document metadata for an archival PDF: title, author, language and creation time."""
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    stamp = created.replace(microsecond=0).isoformat()
    return _ArchivalMetadata(title=title, authors=[author], lang=lang, generator="Results Online",
                             created=stamp, modified=stamp)


def xmp_packet(meta: DocumentMetadata) -> bytes:
    """The XMP metadata stream WeasyPrint writes for ``meta`` under ``PDF_VARIANT``."""
    rdf = meta.generate_rdf_metadata("a", 3, "U")
    packet: bytes = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
                     b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + rdf
                     + b'</x:xmpmeta>\n<?xpacket end="r"?>')
    return packet


def info_entries(meta: DocumentMetadata) -> dict[str, str]:
    """The document information entries that match ``xmp_packet(meta)`` (PDF/A 6.6.2.3)."""
    return {"/Title": meta.title, "/Author": ", ".join(meta.authors),
            "/Creator": meta.generator, "/Producer": f"WeasyPrint {weasyprint.__version__}",
            "/CreationDate": _pdf_date(meta.created), "/ModDate": _pdf_date(meta.modified)}


def _pdf_date(w3c: str) -> str:
    when = datetime.fromisoformat(w3c)
    offset = when.strftime("%z")
    return f"D:{when:%Y%m%d%H%M%S}{offset[:3]}'{offset[3:]}"


def archival_pdf(document: Document, meta: DocumentMetadata, target: Path | None = None,
                 ) -> bytes | None:
    """Write ``document`` as tagged PDF/A-3u + PDF/UA-1 with ``meta``; bytes if no target."""
    for page in document.pages:
        _hook_page(page)
    document.metadata = meta
    try:
        out: bytes | None = document.write_pdf(target, pdf_variant=PDF_VARIANT, pdf_tags=True,
                                               pdf_identifier=True, finisher=_finish_tags)
    finally:
        for page in document.pages:
            page.__dict__.pop("paint", None)  # the hook refers to the page: break the cycle
    return out


def _finish_tags(document: Document, pdf: Any) -> None:
    """Header cells get a Scope, element ids an IDTree: WeasyPrint writes neither.

    And a Figure's BBox is put in PDF user space (points, from the bottom left), where
    WeasyPrint leaves it in CSS px from the top left.
    """
    def deref(ref: Any) -> Any:
        return pdf.objects[int(ref.split()[0])]

    ids: list[tuple[str, Any]] = []
    for item in pdf.objects:
        if not isinstance(item, dict) or item.get("Type") != "/StructElem":
            continue
        obj: Any = item
        if obj["S"] == "/Figure" and "A" in obj and "BBox" in obj["A"]:
            obj["A"]["BBox"] = _user_space(obj["A"]["BBox"], deref(obj["Pg"]))
        if obj["S"] == "/TH":
            group = deref(deref(obj["P"])["P"])["S"]
            obj["A"]["Scope"] = "/Column" if group == "/THead" else "/Row"
        if "ID" in obj:
            ids.append((obj["ID"].string, obj.reference))
    if ids and "StructTreeRoot" in pdf.catalog:
        names = pydyf.Array()
        for key, ref in sorted(ids):
            names += [pydyf.String(key), ref]
        deref(pdf.catalog["StructTreeRoot"])["IDTree"] = pydyf.Dictionary({"Names": names})
    serialise_once(pdf)


def _user_space(box: Any, page: Any) -> Any:
    x1, y1, x2, y2 = (float(v) for v in box)
    height = float(page["MediaBox"][3])
    points = 0.75  # 72 points per inch / 96 CSS px per inch
    return pydyf.Array([round(v, 2) for v in (
        x1 * points, height - y2 * points, x2 * points, height - y1 * points)])


def paint_into_slot(page: Page, element_id: str, painter: Painter) -> None:
    """Have the page's inline ``<svg id=element_id>`` slot drawn by ``painter`` when written."""
    slots: dict[str, Painter] = page.__dict__.setdefault("_results_slots", {})
    slots[element_id] = painter


def _hook_page(page: Page) -> None:
    slots: dict[str, Painter] = page.__dict__.get("_results_slots", {})
    paint = type(page).paint

    def paint_hooked(stream: Any, scale: float = 1) -> None:
        stream.marked = _marked(stream, slots)
        stream.add_font = _add_font(stream)
        try:
            paint(page, stream, scale)
        finally:
            del stream.marked, stream.add_font

    page.paint = paint_hooked


class _VisualOrderMap(dict[int, str]):
    """A font's glyph-to-text map whose right-to-left multi-character glyphs read visually."""

    def __setitem__(self, glyph: int, text: str) -> None:
        super().__setitem__(glyph, _visual(text))


def _visual(text: str) -> str:
    return text[::-1] if len(text) > 1 and _right_to_left(text) else text


def _right_to_left(text: str) -> bool:
    return any(bidirectional(c) in ("R", "AL") for c in text)


def _add_font(stream: Any) -> Callable[[Any], tuple[Any, float]]:
    original = type(stream).add_font.__get__(stream)

    def add_font(pango_font: Any) -> tuple[Any, float]:
        font, size = original(pango_font)
        if not isinstance(font.to_unicode, _VisualOrderMap):
            font.to_unicode = _VisualOrderMap({g: _visual(t) for g, t in font.to_unicode.items()})
        return font, size

    return add_font


def _marked(stream: Any, slots: dict[str, Painter]) -> Callable[[Any, str], Any]:
    original = type(stream).marked.__get__(stream)

    @contextmanager
    def marked(box: Any, tag: str) -> Iterator[None]:
        tags = stream._tags  # WeasyPrint's MCID bookkeeping for this page
        if (tags is None or not isinstance(box, TextBox) or box.text.isascii()
                or _right_to_left(box.text)):
            with original(box, tag):
                yield
                painter = slots.get(box.element.get("id", "")) if box.element is not None else None
                if painter is not None:
                    with stream.stacked():
                        painter(stream, box.content_box_x(), box.content_box_y(),
                                box.width, box.height)
            return
        mcid = len(tags)
        tags[box] = {"tag": tag, "mcid": mcid}
        stream.begin_marked_content(tag, pydyf.Dictionary(
            {"MCID": mcid, "ActualText": pydyf.String(box.text)}))
        try:
            yield
        finally:
            stream.end_marked_content()

    return marked
