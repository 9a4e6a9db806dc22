"""Sealed PDFs: a PAdES B-B signature that poppler's pdfsig and pyHanko's validator accept."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from factories import NOW, cambridge_series, make_keys, step_series
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from results_online.build.bundle.centre import centre_zip
from results_online.build.bundle.explanation import explanation_pdf
from results_online.build.render.sealpdf import SEAL_REASON, seal_pdf
from results_online.build.render.statements import RenderedStatement, render_statements
from results_online.build.verification.seal import seal_series
from results_online.errors import KeyStoreError
from results_online.keys.seal import Seal, init_seal_cert, load_seal
from results_online.progress import no_progress

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    make_keys(folder)
    init_seal_cert(folder, "Test Awarding Body", datetime(2026, 8, 1, tzinfo=UTC), PASSPHRASE)
    return folder


@pytest.fixture(scope="module")
def seal(store: Path) -> Seal:
    loaded = load_seal(store, PASSPHRASE)
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def sealed(store: Path, seal: Seal, tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[RenderedStatement, ...]:
    from results_online.keys.store import load_keys

    keys = load_keys(store)
    statements = (seal_series(step_series(per_centre=2, n_centres=1), keys)
                  + seal_series(cambridge_series(per_centre=2, n_centres=1), keys))
    return render_statements(statements, tmp_path_factory.mktemp("out"), workers=2,
                             batch_size=2, progress=no_progress, now=NOW, seal=seal)


def test_the_seal_is_an_ecdsa_p256_key_with_its_certificate(store: Path, seal: Seal) -> None:
    cert = x509.load_der_x509_certificate(seal.cert_der)
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert "Test Awarding Body" in cert.subject.rfc4514_string()
    assert (store / "seal" / "seal.key").stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED" in (store / "seal" / "seal.key").read_bytes()
    with pytest.raises(KeyStoreError):
        load_seal(store, b"wrong")
    with pytest.raises(KeyStoreError, match="already"):
        init_seal_cert(store, "Again", NOW, PASSPHRASE)


def test_a_store_without_a_seal_seals_nothing(tmp_path: Path) -> None:
    make_keys(tmp_path)
    assert load_seal(tmp_path) is None


def pdfsig(data: bytes, tmp_path: Path) -> str:
    f = tmp_path / "check.pdf"
    f.write_bytes(data)
    return subprocess.run(["pdfsig", str(f)], capture_output=True, text=True,
                          check=False).stdout


def changed(data: bytes) -> bytes:
    """One byte changed inside what the signature covers (the page's content)."""
    out = bytearray(data)
    at = data.index(b"stream\n", len(data) // 3) + 20
    out[at] ^= 0x01
    return bytes(out)


def pyhanko_status(data: bytes, seal: Seal) -> tuple[bool, bool, str]:
    """(intact, bottom line, subfilter) as pyHanko's validator reports it, trusting the cert.

    Intact: the document digest matches; the bottom line: intact, a valid signature
    value, and a trusted signer.
    """
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    (sig,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(seal.cert_der)])
    status = validate_pdf_signature(sig, context)
    return status.intact, status.bottom_line, str(sig.sig_object["/SubFilter"])


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils")
def test_pdfsig_reports_every_sealed_statement_valid_and_a_changed_byte_invalid(
        sealed: tuple[RenderedStatement, ...], tmp_path: Path) -> None:
    for r in sealed:
        data = r.pdf.read_bytes()
        report = pdfsig(data, tmp_path)
        assert "Signature Validation: Signature is Valid." in report, report
        assert "Signature Type: ETSI.CAdES.detached" in report
        assert "Signing Hash Algorithm: SHA-256" in report
        assert "Total document signed" in report
        broken = pdfsig(changed(data), tmp_path)
        assert "Signature is Valid." not in broken and "Signature Validation:" in broken, broken


def test_pyhanko_validates_the_seal_and_rejects_a_changed_byte(
        sealed: tuple[RenderedStatement, ...], seal: Seal) -> None:
    data = sealed[0].pdf.read_bytes()
    assert pyhanko_status(data, seal) == (True, True, "/ETSI.CAdES.detached")
    intact, good, _ = pyhanko_status(changed(data), seal)
    assert not intact and not good


def test_each_pdf_sealed_in_one_process_has_a_valid_seal_of_its_own(
        sealed: tuple[RenderedStatement, ...], seal: Seal) -> None:
    # The signer reuses its first CMS (sealpdf.py): each later seal must still sign
    # its own document's digest, with pyHanko's attributes and certificates.
    from results_online.build.render import sealpdf

    sealpdf._signer.cache_clear()
    unsealed = [_unsealed(r.pdf.read_bytes()) for r in sealed]
    digests = set()
    for data in unsealed:
        out = seal_pdf(data, seal, SEAL_REASON)
        assert pyhanko_status(out, seal) == (True, True, "/ETSI.CAdES.detached")
        (sig,) = PdfFileReader(io.BytesIO(out), strict=False).embedded_signatures
        info = sig.signed_data["signer_infos"][0]
        attrs = {a["type"].native: a["values"].native for a in info["signed_attrs"]}
        assert sorted(attrs) == ["content_type", "message_digest", "signing_certificate_v2"]
        digests.add(attrs["message_digest"][0])
        assert [c.chosen.dump() for c in sig.signed_data["certificates"]] == [seal.cert_der] * 2
    assert len(digests) == len(unsealed)


def _unsealed(data: bytes) -> bytes:
    """The PDF as rendered, before its seal's incremental update."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    (sig,) = reader.embedded_signatures
    contents_at = sig.byte_range[1]  # in the seal's update, after the rendered file's end
    end = data.rindex(b"%%EOF", 0, contents_at) + len(b"%%EOF")
    return data[: end + 1] if data[end : end + 1] == b"\n" else data[:end]


def test_a_sealed_statement_stays_tagged_pdfa(sealed: tuple[RenderedStatement, ...]) -> None:
    for r in sealed:
        with pikepdf.open(r.pdf) as pdf, pdf.open_metadata() as meta:
            assert meta.pdfa_status == "3U"
            assert bool(pdf.Root.MarkInfo.Marked) and "/StructTreeRoot" in pdf.Root
            # PDF/A: the information dictionary still agrees with the XMP.
            assert str(pdf.docinfo.ModDate) == "D:20260819073000+00'00"
            assert str(pdf.docinfo.Producer) == meta["pdf:Producer"]
            (widget,) = pdf.pages[0].Annots
            assert int(widget.F) & 4 and not int(widget.F) & 2  # printed, not hidden
            assert widget.FT == "/Sig" and "/StructParent" in widget
            form = pdf.Root.StructTreeRoot.ParentTree.Nums
            keys = [int(form[i]) for i in range(0, len(form), 2)]
            assert int(widget.StructParent) in keys


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils")
def test_statements_pdf_and_the_explanation_carry_their_own_valid_seal(
        sealed: tuple[RenderedStatement, ...], seal: Seal, tmp_path: Path) -> None:
    s = sealed[0].statement
    series = step_series(per_centre=2, n_centres=1)
    items = [r for r in sealed if r.statement.centre.number == s.centre.number]
    data = centre_zip(series, series.centre(s.centre.number), items, b"", now=NOW, seal=seal)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        combined = zf.read("statements.pdf")
        singles = [zf.read(n) for n in zf.namelist()
                   if n.endswith(".pdf") and n not in ("statements.pdf",
                                                       "explanation-of-results.pdf")]
    assert len(singles) == len(items)
    for single in singles:  # each candidate's own PDF keeps its own seal
        report = pdfsig(single, tmp_path)
        assert report.count("Signature #") == 1 and "Signature is Valid." in report, report
    report = pdfsig(combined, tmp_path)
    assert report.count("Signature #") == 1 and "Signature is Valid." in report, report
    assert pyhanko_status(combined, seal)[:2] == (True, True)
    with pikepdf.open(io.BytesIO(combined)) as pdf:
        assert len(pdf.pages) == len(items)
    explanation = seal_pdf(explanation_pdf(series, now=NOW), seal, SEAL_REASON)
    report = pdfsig(explanation, tmp_path)
    assert "Signature is Valid." in report, report
    with pikepdf.open(io.BytesIO(explanation)) as pdf, pdf.open_metadata() as meta:
        assert meta.pdfa_status == "3U" and "/StructTreeRoot" in pdf.Root


def test_keys_init_seal_cert_makes_a_seal_the_build_uses(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from results_online.commands.main import main

    monkeypatch.delenv("RESULTS_KEY_PASSPHRASE", raising=False)
    folder = tmp_path / "keys"
    assert main(["keys", "init", "--keys", str(folder), "--seal-cert",
                 "--seal-name", "Example Board"]) == 0
    loaded = load_seal(folder)
    assert loaded is not None
    cert = x509.load_der_x509_certificate(loaded.cert_der)
    assert cert.subject.rfc4514_string() == "O=Example Board,CN=Example Board"
    assert main(["keys", "init", "--keys", str(tmp_path / "plain")]) == 0
    assert load_seal(tmp_path / "plain") is None


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils")
def test_a_build_with_a_sealing_key_store_seals_every_statement(tmp_path: Path) -> None:
    from release_support import small_build

    built = small_build(tmp_path, seal="Example Board")
    pdfs = sorted((built.out / "private" / "statements").rglob("*.pdf"))
    assert len(pdfs) == len(built.candidates)
    for pdf in pdfs:
        report = pdfsig(pdf.read_bytes(), tmp_path)
        assert "Signature is Valid." in report and "Example Board" in report, report
