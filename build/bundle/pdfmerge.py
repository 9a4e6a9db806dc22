"""One tagged PDF/A-3u from several: the centre's statements.pdf.

pypdf copies pages but not the logical structure (it drops a page's
``StructParents``), so the merged file would be untagged and no longer PDF/UA. Here
each source's structure (its Document element's children) is copied under one new
Document element, page and annotation keys are renumbered into one parent tree,
element ids (table header cells) are made unique per source and listed in one IDTree, and
the catalogue gets
what PDF/A and PDF/UA ask of it: MarkInfo, language, DisplayDocTitle, the sRGB output
intent of the sources, and XMP metadata that matches the document information.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from weasyprint.document import DocumentMetadata

from results_online.build.render.weasy import info_entries, xmp_packet


def merge_tagged(paths: Sequence[Path], meta: DocumentMetadata) -> bytes:
    """Every page of ``paths`` in order, with their structure, as one PDF described by ``meta``."""
    writer = PdfWriter()
    document = _object(writer, {"/Type": NameObject("/StructElem"),
                                "/S": NameObject("/Document"), "/K": ArrayObject()})
    nums = ArrayObject()
    ids: list[tuple[str, Any]] = []
    next_key = 0
    for number, path in enumerate(paths):
        reader = PdfReader(path)
        first = len(writer.pages)
        # Without annotations: the only ones are the statements' seals, void once merged.
        writer.append(reader, excluded_fields=["/Annots", "/B"])
        catalogue: Any = reader.trailer["/Root"]
        source = catalogue.get("/StructTreeRoot")
        if source is None:
            continue
        keys = _parent_keys(source.get_object())
        shift = next_key
        for old, new in zip(reader.pages, writer.pages[first:], strict=True):
            _renumber(old, new, shift)
        for top in _kids(source.get_object()):  # WeasyPrint: one Document element
            for kid in _kids(top.get_object()):
                copied = kid.get_object().clone(writer, ignore_fields=["/P"])
                ids += _adopt(copied.get_object(), document, f"s{number}-")
                document["/K"].append(copied.indirect_reference or copied)
        for key, value in keys:
            nums += [NumberObject(key + shift), value.clone(writer, ignore_fields=["/P"])]
        next_key = shift + max((k for k, _ in keys), default=-1) + 1
    root = _object(writer, {
        "/Type": NameObject("/StructTreeRoot"), "/K": ArrayObject([document.indirect_reference]),
        "/ParentTree": _object(writer, {"/Nums": nums}).indirect_reference,
        "/ParentTreeNextKey": NumberObject(next_key)})
    if ids:
        root[NameObject("/IDTree")] = _object(writer, {"/Names": ArrayObject(
            item for key, ref in sorted(ids) for item in (TextStringObject(key), ref))},
        ).indirect_reference
    document[NameObject("/P")] = root.indirect_reference
    writer.root_object.pop(NameObject("/AcroForm"), None)
    _catalogue(writer, paths, root, meta)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _object(writer: PdfWriter, entries: dict[str, Any]) -> Any:
    obj = DictionaryObject({NameObject(k): v for k, v in entries.items()})
    # pypdf has no public way to add an indirect object.
    return writer._add_object(obj).get_object()


def _parent_keys(root: Any) -> list[tuple[int, Any]]:
    nums = root["/ParentTree"].get_object().get("/Nums", ArrayObject())
    return [(int(nums[i]), nums[i + 1]) for i in range(0, len(nums), 2)]


def _renumber(old: Any, new: Any, shift: int) -> None:
    """Give the copied page (and its annotations) their keys in the merged parent tree."""
    if "/StructParents" in old:
        new[NameObject("/StructParents")] = NumberObject(int(old["/StructParents"]) + shift)
    for ref in new.get("/Annots", ArrayObject()):
        annot = ref.get_object()
        if "/StructParent" in annot:
            annot[NameObject("/StructParent")] = NumberObject(int(annot["/StructParent"]) + shift)


def _adopt(element: Any, parent: Any, prefix: str,
           ) -> list[tuple[str, Any]]:
    """Point the copied element (and its descendants) at their parents; prefix element ids.

    Returns the (new id, element) pairs for the IDTree.
    """
    ids: list[tuple[str, Any]] = []
    stack = [(element, parent)]
    while stack:
        node, up = stack.pop()
        node[NameObject("/P")] = up.indirect_reference
        if "/ID" in node:
            node[NameObject("/ID")] = TextStringObject(prefix + str(node["/ID"]))
            ids.append((str(node["/ID"]), node.indirect_reference))
        attributes = node.get("/A")
        if isinstance(attributes, DictionaryObject) and "/Headers" in attributes:
            headers: Any = attributes["/Headers"]
            attributes[NameObject("/Headers")] = ArrayObject(
                TextStringObject(prefix + str(h)) for h in headers)
        for ref in _kids(node):
            kid = ref.get_object()
            # An MCID (number), a marked-content or object reference (/MCR, /OBJR) has no /S.
            if isinstance(kid, DictionaryObject) and "/S" in kid:
                stack.append((kid, node))
    return ids


def _kids(node: Any) -> list[Any]:
    kids = node.get("/K")
    return list(kids) if isinstance(kids, ArrayObject) else [] if kids is None else [kids]


def _catalogue(writer: PdfWriter, paths: Sequence[Path], root: Any,
               meta: DocumentMetadata) -> None:
    catalogue = writer.root_object
    first: Any = PdfReader(paths[0]).trailer["/Root"] if paths else DictionaryObject()
    if "/OutputIntents" in first:
        catalogue[NameObject("/OutputIntents")] = first["/OutputIntents"].clone(writer)
    catalogue[NameObject("/StructTreeRoot")] = root.indirect_reference
    catalogue[NameObject("/MarkInfo")] = DictionaryObject(
        {NameObject("/Marked"): BooleanObject(True)})
    catalogue[NameObject("/Lang")] = TextStringObject(meta.lang)
    catalogue[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)})
    xmp = DecodedStreamObject()
    xmp.set_data(xmp_packet(meta))
    xmp.update({NameObject("/Type"): NameObject("/Metadata"),
                NameObject("/Subtype"): NameObject("/XML")})
    catalogue[NameObject("/Metadata")] = writer._add_object(xmp)
    writer.add_metadata(info_entries(meta))
    # PDF/A wants a file identifier; pypdf's own is random, this one keeps the bundle
    # deterministic: the same sources and metadata give the same file.
    digest = hashlib.sha256(xmp_packet(meta))
    for path in paths:
        digest.update(path.read_bytes())
    ident = ByteStringObject(digest.digest()[:16])
    writer._ID = ArrayObject([ident, ident])  # pypdf has no public setter for a fixed /ID
