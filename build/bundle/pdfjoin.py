"""One PDF from several, in qpdf (pikepdf): the centre's statements.pdf.

pypdf re-parses every page in Python (measured 16-18 ms a page, most of a centre
bundle's time); qpdf copies the same objects in C++ (about 2 ms a page). Pages are
copied with what they refer to; when the sources are tagged, each source's
structure (the children of its Document element) is copied under one new Document
element, page and annotation keys are renumbered into one parent tree and element
ids are made unique per source (listed in one IDTree), so the joined file stays
tagged. The catalogue gets the title (shown as the window title), author,
language, the sources' output intent and the XMP metadata and document information
WeasyPrint writes for a PDF/A-3u (render/weasy.py), so the joined file identifies
as the statements do. The file identifier is derived from the content, so the same
sources give the same bytes.

A sealed source's signature does not survive a join (it signs that file's bytes):
its signature widgets are left off its pages, and its Form elements and parent-tree
keys that point at them are left out of the structure. Nothing of a source's
catalogue (AcroForm fields, /Perms, DocMDP references) is copied, so the joined file
has no signature field until it is sealed as a whole.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Object, Pdf, Stream, String
from weasyprint.document import DocumentMetadata

from results_online.build.render.weasy import info_entries, xmp_packet


@dataclass(frozen=True)
class Part:
    """Where one source sits in a joined file: its bytes' digest and what it added."""

    digest: str  # SHA-256 of the source file, hex
    pages: int
    keys: int  # parent-tree keys it takes (its pages' and annotations' keys are offset by these)
    kids: int  # elements it put under the Document element
    tagged: bool
    version: str


@dataclass(frozen=True)
class Joined:
    """A joined PDF and where each of its sources sits in it."""

    pdf: bytes
    parts: tuple[Part, ...]


def join_pdfs(paths: Sequence[Path], meta: DocumentMetadata) -> bytes:
    """Every page of ``paths`` in order, with their structure, as one PDF described by ``meta``."""
    return join_parts([p.read_bytes() for p in paths], meta).pdf


def join_parts(sources: Sequence[bytes], meta: DocumentMetadata) -> Joined:
    """``join_pdfs`` of PDFs given as bytes, with where each source went."""
    joiner = Joiner()
    for data in sources:
        joiner.add(data)
    return joiner.finish(meta)


def digest(data: bytes) -> str:
    """What identifies a source in a ``Part``."""
    return hashlib.sha256(data).hexdigest()


class Joiner:
    """The joined file, made source by source in order; ``finish`` gives its bytes.

    Objects are made in the order the sources come, and qpdf numbers the objects of
    each object stream it writes in that order: a source copied from an earlier
    joined file (``build/bundle/rejoin.py``) must come at the same place.
    """

    def __init__(self) -> None:
        self.out = Pdf.new()
        self.document = self.out.make_indirect(
            Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
        self.nums: list[int | Object] = []  # made a PDF array once: appending to one is slow
        self.ids: list[tuple[str, Object]] = []
        self.next_key = 0
        self.parts: list[Part] = []

    def add(self, data: bytes, known_digest: str | None = None) -> Part:
        """Copy the pages and structure of the PDF ``data`` after those added so far.

        ``known_digest`` is ``digest(data)``, when the caller has it: not hashed again.
        """
        out, number, shift = self.out, len(self.parts), self.next_key
        with Pdf.open(io.BytesIO(data)) as src:
            first, kids = len(out.pages), len(self.document.K)
            dropped = _drop_signatures(src)
            out.pages.extend(src.pages)
            if number == 0 and "/OutputIntents" in src.Root:
                out.Root.OutputIntents = copy_object(out, src.Root.OutputIntents)
            root = src.Root.get("/StructTreeRoot")
            if root is not None:
                keys = _parent_keys(root)
                for page in out.pages[first:]:
                    _renumber(page.obj, shift)
                prefix = f"s{number}-"
                named = _prefix_ids(root, prefix) if "/IDTree" in root else None
                for top in _kids(root):
                    # /P would drag the source's whole tree along: the copy gets a new parent.
                    if Name.P in top:
                        del top[Name.P]
                    for kid in _kids(top):
                        if _points_at(kid, dropped):
                            continue
                        if Name.P in kid:
                            del kid[Name.P]
                        copied = copy_object(out, kid)
                        copied.P = self.document
                        if named is None:  # no IDTree: each element is looked at
                            self.ids += _prefix_walking(copied, prefix)
                        self.document.K.append(copied)
                # Copied above with the elements they are in: copy_foreign gives those copies.
                self.ids += [(name, out.copy_foreign(node)) for name, node in named or ()]
                kept = [(key, value) for key, value in keys if not _points_at(value, dropped)]
                for (key, _), copied in zip(kept, copy_all(out, src, [v for _, v in kept]),
                                            strict=True):
                    self.nums += [key + shift, copied]
                self.next_key += max((k for k, _ in keys), default=-1) + 1
            part = Part(digest(data) if known_digest is None else known_digest,
                        len(out.pages) - first, self.next_key - shift,
                        len(self.document.K) - kids, root is not None, src.pdf_version)
        self.parts.append(part)
        return part

    def finish(self, meta: DocumentMetadata) -> Joined:
        """The joined file's bytes, described by ``meta``."""
        out = self.out
        if any(p.tagged for p in self.parts):
            _structure(out, self.document, self.nums, self.next_key, self.ids)
        _share_streams(out)
        _describe(out, meta)
        buffer = io.BytesIO()
        # The sources' streams are copied as they are, not decoded and encoded again; the new
        # object and cross-reference streams are compressed (about a third of the file when
        # not); qpdf leaves the XMP plain, as readers of PDF/A expect.
        out.save(buffer, deterministic_id=True, compress_streams=True,
                 min_version=max(["1.4", *(p.version for p in self.parts)]),
                 stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return Joined(buffer.getvalue(), tuple(self.parts))


def _structure(out: Pdf, document: Object, nums: list[int | Object], next_key: int,
               ids: list[tuple[str, Object]]) -> None:
    root = out.make_indirect(Dictionary(
        Type=Name.StructTreeRoot, K=Array([document]),
        ParentTree=out.make_indirect(Dictionary(Nums=Array(nums))), ParentTreeNextKey=next_key))
    if ids:
        names = [item for key, ref in sorted(ids, key=lambda pair: pair[0])
                 for item in (String(key), ref)]
        root.IDTree = out.make_indirect(Dictionary(Names=Array(names)))
    document.P = root
    out.Root.StructTreeRoot = root
    out.Root.MarkInfo = Dictionary(Marked=True)


def _describe(out: Pdf, meta: DocumentMetadata) -> None:
    """Title, language and the XMP + document information WeasyPrint writes (PDF/A-3u)."""
    out.Root.Lang = String(meta.lang)
    out.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    out.Root.Metadata = out.make_stream(xmp_packet(meta), Type=Name.Metadata,
                                        Subtype=Name.XML)
    for key, value in info_entries(meta).items():
        out.docinfo[Name(key)] = String(value)


# Keys of font and form dictionaries that hold only numbers: long arrays not worth a walk.
_NO_STREAMS = frozenset({"/W", "/W2", "/Widths", "/FontBBox", "/BBox", "/Matrix"})


def _share_streams(out: Pdf) -> None:
    """Make the streams the pages' resources repeat one object each (qpdf writes it once).

    Every statement carries its own sRGB profile and often the same font subsets
    (labels, headings): about a quarter of the joined file's bytes.
    """
    seen: dict[tuple[bytes, bytes], Object] = {}
    visited: set[tuple[int, int]] = set()

    def visit(node: Object) -> None:
        if node.is_indirect:
            if node.objgen in visited:
                return
            visited.add(node.objgen)
        pairs = list(enumerate(node)) if isinstance(node, Array) else list(node.items())
        for key, value in pairs:
            if key in _NO_STREAMS or not isinstance(value, Dictionary | Array | Stream):
                continue
            visit(value)  # children first, so the key below names shared children
            if isinstance(value, Stream):
                digest = hashlib.sha256(value.read_raw_bytes()).digest()
                first = seen.setdefault((value.stream_dict.unparse(), digest), value)
                if first.objgen != value.objgen:
                    node[key] = first

    for page in out.pages:
        if "/Resources" in page.obj:
            visit(page.obj.Resources)


def _drop_signatures(src: Pdf) -> set[tuple[int, int]]:
    """Take the signature widgets off the source's pages (in memory); return their ids."""
    dropped: set[tuple[int, int]] = set()
    for page in src.pages:
        annots = page.obj.get("/Annots")
        if annots is None:
            continue
        kept = Array()
        for annot in annots:
            if _is_signature(annot):
                dropped.add(annot.objgen)
            else:
                kept.append(annot)
        if len(kept) == len(annots):
            continue
        if len(kept):
            page.obj.Annots = kept
        else:
            del page.obj[Name.Annots]
    return dropped


def _is_signature(annot: Object) -> bool:
    """A signature field's widget (the field merged into it, or its kid)."""
    field = annot.get("/Parent", annot) if "/FT" not in annot else annot
    return isinstance(field, Dictionary) and field.get("/FT") == Name.Sig


def _points_at(element: Object, dropped: set[tuple[int, int]]) -> bool:
    """Whether a structure element (or parent-tree value) marks one of the dropped widgets."""
    if not dropped or not isinstance(element, Dictionary):
        return False
    refs = [k for k in _kids(element) if isinstance(k, Dictionary) and k.get("/Type") == Name.OBJR]
    return bool(refs) and all(r.Obj.objgen in dropped for r in refs)


def _parent_keys(root: Object) -> list[tuple[int, Object]]:
    tree = root.get("/ParentTree")
    nums = tree.get("/Nums", Array()) if tree is not None else Array()
    return [(int(nums[i]), nums[i + 1]) for i in range(0, len(nums), 2)]


def _renumber(page: Object, shift: int) -> None:
    """Give a copied page (and its annotations) their keys in the joined parent tree."""
    if "/StructParents" in page:
        page.StructParents = int(page.StructParents) + shift
    for annot in page.get("/Annots", Array()):
        if "/StructParent" in annot:
            annot.StructParent = int(annot.StructParent) + shift


def _prefix_ids(root: Object, prefix: str) -> list[tuple[str, Object]]:
    """Prefix the source's element ids and the table headers naming them, in the source.

    Returns each renamed element. The elements are those its IDTree lists (every
    element with an ID must be listed there); only their tables are walked for
    /Headers, not the whole tree (a walk of every element was most of a join's Python
    time).
    """
    named: list[tuple[str, Object]] = []
    tables: dict[tuple[int, int], Object] = {}
    for ident, node in pikepdf.NameTree(root.IDTree).items():
        renamed = prefix + ident
        node.ID = String(renamed)
        named.append((renamed, node))
        for up in _ancestors(node):
            if up.get("/S") == Name.Table:
                tables.setdefault(up.objgen, up)
    for table in tables.values():
        for element in _subtree(table):
            _prefix_headers(element, prefix)
    return named


def _ancestors(node: Object) -> list[Object]:
    """``node`` and its parents up to (not including) the StructTreeRoot."""
    chain = [node]
    while (up := chain[-1].get("/P")) is not None and up.get("/Type") != Name.StructTreeRoot:
        chain.append(up)
    return chain


def _prefix_walking(element: Object, prefix: str) -> list[tuple[str, Object]]:
    """Prefix the element ids and headers of a copied element's subtree; return the ids."""
    ids: list[tuple[str, Object]] = []
    for node in _subtree(element):
        ident = node.get("/ID")
        if ident is not None:
            renamed = prefix + str(ident)
            node.ID = String(renamed)
            ids.append((renamed, node))
        _prefix_headers(node, prefix)
    return ids


def _prefix_headers(node: Object, prefix: str) -> None:
    attributes = node.get("/A")
    if isinstance(attributes, Dictionary):
        headers = attributes.get("/Headers")
        if headers is not None:
            attributes.Headers = Array([String(prefix + str(h)) for h in headers])


def _subtree(element: Object) -> Iterator[Object]:
    """``element`` and the structure elements below it."""
    stack = [element]
    while stack:  # each pikepdf call costs: one per key asked, none twice
        node = stack.pop()
        yield node
        # An MCID (number), a marked-content or object reference (/MCR, /OBJR) has no /S.
        stack += [k for k in _kids(node) if isinstance(k, Dictionary) and "/S" in k]


def copy_object(out: Pdf, obj: Object) -> Object:
    """``obj`` of another PDF in ``out``: qpdf copies indirect objects, direct ones are rebuilt."""
    if obj.is_indirect:
        return out.copy_foreign(obj)
    if isinstance(obj, Array):
        return Array([copy_object(out, item) for item in obj])
    if isinstance(obj, Dictionary):
        return Dictionary({key: copy_object(out, value) for key, value in obj.items()})
    return obj


def copy_all(out: Pdf, src: Pdf, values: list[Object]) -> list[Object]:
    """``copy_object`` of each of ``values``, in one qpdf call (each a call of its own was slow)."""
    if not values:
        return []
    copied = out.copy_foreign(src.make_indirect(Array(values)))
    return [Array(v) if isinstance(v, Array) else v for v in copied]


def _kids(node: Object) -> list[Object]:
    kids = node.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]
