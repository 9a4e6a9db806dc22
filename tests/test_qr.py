"""The QR on a printed statement: read back by an independent decoder, it verifies."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
import segno
import zxingcpp
from factories import NOW, cambridge_series, make_keys, step_series
from weasyprint import HTML

from results_online.build.render.qr import make_qr, qr_svg
from results_online.build.render.statements import RenderedStatement, render_statements
from results_online.build.verification.seal import seal_series
from results_online.errors import InvalidToken
from results_online.keys.store import load_keys
from results_online.keyset import Keyset, load_keyset
from results_online.progress import no_progress
from results_online.token import from_digits, to_digits, verify_token

SCALE = 3  # 216 dpi
MM_PER_PX = 25.4 / (72 * SCALE)


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    make_keys(folder)
    return folder


@pytest.fixture(scope="module")
def rendered(keys_dir: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[RenderedStatement, ...]:
    keys = load_keys(keys_dir)
    statements = (seal_series(step_series(per_centre=2, n_centres=1), keys)
                  + seal_series(cambridge_series(per_centre=2, n_centres=1), keys))
    return render_statements(statements, tmp_path_factory.mktemp("out"), workers=1,
                             batch_size=10, progress=no_progress, now=NOW)


@pytest.fixture(scope="module")
def keyset(keys_dir: Path) -> Keyset:
    return load_keyset(keys_dir / "keyset.json")  # only the public keyset


def read_qr(pdf: Path) -> zxingcpp.Barcode:
    """The one QR code zxing-cpp finds on the PDF's page, rendered by pdfium."""
    page = pdfium.PdfDocument(pdf)[0]
    found = zxingcpp.read_barcodes(page.render(scale=SCALE).to_pil(),
                                   formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0]


def test_qr_on_the_pdf_gives_a_url_whose_token_verifies(
        rendered: tuple[RenderedStatement, ...], keyset: Keyset) -> None:
    for r in rendered:
        s = r.statement
        text = read_qr(r.pdf).text
        prefix, _, digits = text.partition("#")
        assert prefix == f"{s.series.verify_url}/q"
        data = verify_token(keyset, from_digits(digits))
        assert data.name == s.entry.candidate.name
        assert data.candidate_number == s.entry.candidate.number
        assert data.test == s.entry.test.code
        assert [r.code for r in data.results][: len(s.entry.components)] == [
            c.component.code for c in s.entry.components]


def test_one_flipped_bit_fails_verification(rendered: tuple[RenderedStatement, ...],
                                            keyset: Keyset) -> None:
    token = from_digits(read_qr(rendered[0].pdf).text.partition("#")[2])
    verify_token(keyset, token)
    for i in range(len(token) * 8):
        flipped = bytearray(token)
        flipped[i // 8] ^= 1 << (i % 8)
        with pytest.raises(InvalidToken):
            verify_token(keyset, from_digits(to_digits(bytes(flipped))))


def test_qr_is_version_10_or_less_at_level_m_and_about_30_mm(
        rendered: tuple[RenderedStatement, ...]) -> None:
    for r in rendered:
        code = read_qr(r.pdf)
        assert code.ec_level == "M"
        assert 1 <= int(code.extra["Version"]) <= 10
        xs = [p.x for p in (code.position.top_left, code.position.top_right,
                            code.position.bottom_left, code.position.bottom_right)]
        version = int(code.extra["Version"])
        modules = 17 + 4 * version
        symbol_mm = (max(xs) - min(xs)) * MM_PER_PX
        with_quiet_zone = symbol_mm * (modules + 8) / modules
        assert 27 <= with_quiet_zone <= 33


def test_digits_are_a_numeric_segment_not_bytes(rendered: tuple[RenderedStatement, ...]) -> None:
    # A 150-byte token as decimal digits, all in byte mode, would not fit the decoded
    # version: only a numeric segment for the digits makes it fit.
    for r in rendered:
        code = read_qr(r.pdf)
        all_bytes = segno.make(code.text, mode="byte", error="m", boost_error=False,
                               micro=False)
        assert all_bytes.version > int(code.extra["Version"])


def test_the_quiet_zone_is_four_modules() -> None:
    text = "https://verify.example.org/q#" + "1234567890" * 30
    svg = qr_svg(text)
    modules = 17 + 4 * make_qr(text).version
    assert f'viewBox="0 0 {modules + 8} {modules + 8}"' in svg
    assert "<path" in svg and "<image" not in svg  # vector, not a bitmap


def test_the_web_page_svg_scans_to_the_same_text(tmp_path: Path) -> None:
    text = "https://verify.example.org/q#" + "9081726354" * 36
    page = (f'<style>@page {{ size: 80mm; margin: 0 }} svg {{ width: 60mm; margin: 10mm }}'
            f"</style>{qr_svg(text)}")
    HTML(string=page).write_pdf(tmp_path / "svg.pdf")
    assert read_qr(tmp_path / "svg.pdf").text == text


def test_text_that_needs_more_than_version_10_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        qr_svg("https://verify.example.org/q#" + "7" * 700)


@pytest.mark.parametrize("bad", ["https://verify.example.org/q", "https://v.example.org/q#12a",
                                 "https://v.example.org/q#", "ftp://v.example.org/q#123"])
def test_malformed_qr_text_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="QR text"):
        qr_svg(bad)
