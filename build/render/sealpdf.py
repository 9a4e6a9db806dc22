"""Seal a PDF: a PAdES B-B signature (pyHanko, SHA-256) in an incremental update.

The signature goes in an invisible field: an incremental update keeps every byte of
the PDF/A-3 file before it and adds nothing PDF/A forbids (no JavaScript, no
transparency, no new fonts); the document information and XMP are left as they
were. One signer (the parsed key and certificate) is made per process and reused for
every PDF it seals, and so is its CMS: see ``_SealSigner``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from typing import Any

from asn1crypto import cms, keys, x509
from pyhanko.pdf_utils import generic as _generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata
from pyhanko_certvalidator.registry import SimpleCertificateStore

from results_online.keys.seal import Seal

FIELD = "Seal"
generic: Any = _generic  # pyHanko's PDF object types are untyped
FIELD_DESCRIPTION = "Electronic seal of the awarding body"
SEAL_REASON = "Issued by the awarding body"


_store: Any = SimpleCertificateStore


_CONSTANT_BUT_DIGEST = ("content_type", "message_digest", "signing_certificate_v2")


class _SealSigner(signers.SimpleSigner):
    """pyHanko's signer, with the CMS it builds for the first PDF reused for the next ones.

    Building the CMS structure (asn1crypto objects for the signed attributes, the
    signer info and the certificates) was two thirds of a seal's CPU. With PAdES
    and no timestamp the signed attributes are the content type, the document's
    digest and the signing certificate, so from one PDF to the next only the
    digest and the signature value over the attributes change: those two are set
    in a copy of the first CMS, everything else stays byte for byte pyHanko's.
    """

    _template: bytes | None = None
    _digest_at = 0

    async def async_sign(  # noqa: PLR0917 - pyHanko's signature
        self, data_digest: bytes, digest_algorithm: str, dry_run: Any = False,
        use_pades: Any = False, timestamper: Any = None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None, is_pdf_sig: Any = True,
        encap_content_info: Any = None,
    ) -> Any:
        """The CMS for a document digest: the template's, with this digest and signature."""
        made: Any
        if (dry_run or timestamper is not None or not use_pades or not is_pdf_sig
                or encap_content_info is not None or digest_algorithm != "sha256"):
            return await super().async_sign(
                data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades,
                timestamper=timestamper, signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig, encap_content_info=encap_content_info)
        if self._template is None:
            made = await super().async_sign(data_digest, digest_algorithm, use_pades=True,
                                            signed_attr_settings=signed_attr_settings)
            kinds = [a["type"].native for a in made["content"]["signer_infos"][0]["signed_attrs"]]
            if sorted(kinds) == list(_CONSTANT_BUT_DIGEST):  # else: pyHanko's way every time
                self._digest_at = kinds.index("message_digest")
                self._template = made.dump()
            return made
        content = cms.ContentInfo.load(self._template)
        info = content["content"]["signer_infos"][0]
        attrs = info["signed_attrs"]
        attrs[self._digest_at] = cms.CMSAttribute({"type": "message_digest",
                                                   "values": [data_digest]})
        # What is signed is the attributes as a SET OF, not with the [0] tag they
        # carry inside the signer info (RFC 5652, 5.4).
        info["signature"] = await self.async_sign_raw(attrs.untag().dump(), digest_algorithm)
        return content


@cache
def _signer(key_der: bytes, cert_der: bytes) -> _SealSigner:
    cert = x509.Certificate.load(cert_der)
    return _SealSigner(signing_cert=cert, signing_key=keys.PrivateKeyInfo.load(key_der),
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


def seal_all(pdfs: Sequence[bytes], seal: Seal) -> list[bytes]:
    """Each PDF sealed, in order (a batch, sealed in one of the client's own processes)."""
    return [seal_pdf(pdf, seal, SEAL_REASON) for pdf in pdfs]


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
