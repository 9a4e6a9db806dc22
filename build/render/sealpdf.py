"""Seal a PDF: a PAdES B-B signature (pyHanko, SHA-256) in an incremental update.

The signature goes in an invisible field: an incremental update keeps every byte of
the PDF/A-3 file before it and adds nothing PDF/A forbids (no JavaScript, no
transparency, no new fonts); the document information and XMP are left as they
were. One signer (the parsed key and certificate) is made per process and reused for
every PDF it seals.
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any

from asn1crypto import keys, x509
from pyhanko.pdf_utils import generic as _generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata
from pyhanko_certvalidator.registry import SimpleCertificateStore

from results_online.keys.seal import Seal

FIELD = "Seal"
generic: Any = _generic  # pyHanko's PDF object types are untyped
FIELD_DESCRIPTION = "Electronic seal of the awarding body"
SEAL_REASON = "Issued by the awarding body"


_store: Any = SimpleCertificateStore


@cache
def _signer(key_der: bytes, cert_der: bytes) -> signers.SimpleSigner:
    cert = x509.Certificate.load(cert_der)
    return signers.SimpleSigner(signing_cert=cert, signing_key=keys.PrivateKeyInfo.load(key_der),
                                cert_registry=_store.from_certs([cert]))


def seal_pdf(data: bytes, seal: Seal, reason: str) -> bytes:
    """``data`` with a PAdES B-B signature by the seal's key appended."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    # pyHanko would rewrite the document information and XMP (its own producer in
    # one but not the other, its modification time): PDF/A wants the two to agree,
    # so both stay as rendered; the signing time is in the signature itself.
    writer._update_meta = lambda: None  # type: ignore[method-assign]
    fields.append_signature_field(writer, fields.SigFieldSpec(
        FIELD, readable_field_name=FIELD_DESCRIPTION))
    _tag_widget(writer)
    meta = PdfSignatureMetadata(field_name=FIELD, md_algorithm="sha256", reason=reason,
                                subfilter=fields.SigSeedSubFilter.PADES)
    # Room for the CMS signature: its certificate plus signed attributes and the
    # signature value fit in 1 KB more (reserved as hex: twice that). Without it pyHanko
    # makes a dummy signature first to measure.
    out = signers.sign_pdf(writer, meta, signer=_signer(seal.key_der, seal.cert_der),
                           bytes_reserved=2 * (len(seal.cert_der) + 1024))
    return bytes(out.getvalue())


def _tag_widget(writer: IncrementalPdfFileWriter) -> None:
    """Put the seal's widget in the structure tree, in a Form element (PDF/UA 7.18.4)."""
    root = writer.root.get("/StructTreeRoot")
    if root is None:
        return
    root = root.get_object()
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    widget_ref = next(a for a in page["/Annots"]
                      if a.get_object().get("/T") == FIELD)
    widget = widget_ref.get_object()
    nums = root["/ParentTree"].get_object()["/Nums"]
    key = max((int(nums[i]) for i in range(0, len(nums), 2)), default=-1) + 1
    document = root["/K"][0] if isinstance(root["/K"], generic.ArrayObject) else root["/K"]
    form = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/StructElem"),
        generic.NameObject("/S"): generic.NameObject("/Form"),
        generic.NameObject("/P"): document,
        generic.NameObject("/Pg"): page_ref,
        generic.NameObject("/Alt"): generic.TextStringObject(FIELD_DESCRIPTION),
        generic.NameObject("/K"): generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/OBJR"),
            generic.NameObject("/Obj"): widget_ref, generic.NameObject("/Pg"): page_ref}),
    }))
    document.get_object()["/K"].append(form)
    nums += [generic.NumberObject(key), form]
    root["/ParentTreeNextKey"] = generic.NumberObject(key + 1)
    widget["/StructParent"] = generic.NumberObject(key)
    page["/Tabs"] = generic.NameObject("/S")
    for obj in (document.get_object(), root["/ParentTree"].get_object(), root, widget, page):
        writer.update_container(obj)
