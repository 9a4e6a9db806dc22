"""Statements, statements.pdf and the explanation are tagged PDF/A-3u + PDF/UA-1, read with pikepdf.

pikepdf (qpdf) is independent of what writes these files (WeasyPrint's pydyf, pypdf in
the merge). No veraPDF is to be had here (no Debian, Python or JavaScript package
ships it; the Python packages that name it fetch its jar at run time), so the checks are
the requirements spelled out, plus the ``pdfua`` checker (a pikepdf-based subset of the
PDF/UA-1 machine-checkable rules), and poppler's pdftotext for the text.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pikepdf
import pytest
from factories import NAMES, NOW, make_keys

from results_online.build.bundle.centre import centre_zip, statement_order
from results_online.build.bundle.explanation import explanation_pdf
from results_online.build.inputs.load import load_series
from results_online.build.render.chart import chart_layout
from results_online.build.render.qr import SVG_TITLE
from results_online.build.render.sealpdf import FIELD
from results_online.build.render.statements import RenderedStatement, render_statements
from results_online.build.verification.seal import seal_series
from results_online.keys.seal import init_seal_cert, load_seal
from results_online.model import Series
from results_online.progress import no_progress

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
_NS = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
       "dc": "http://purl.org/dc/elements/1.1/", "pdf": "http://ns.adobe.com/pdf/1.3/", "xmp": "http://ns.adobe.com/xap/1.0/",
       "pdfaid": "http://www.aiim.org/pdfa/ns/id/", "pdfuaid": "http://www.aiim.org/pdfua/ns/id/"}
_PAINT = {"Tj", "TJ", "'", '"', "f", "f*", "F", "S", "s", "B", "B*", "b", "b*", "Do", "sh", "BI"}


@dataclass(frozen=True)
class Made:
    series: tuple[Series, ...]
    rendered: tuple[RenderedStatement, ...]
    combined: dict[str, bytes]  # centre → statements.pdf
    sealed: frozenset[str]  # the combined files of the series built with a seal
    explanations: tuple[bytes, ...]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    folder = tmp_path_factory.mktemp("keys")
    keys = make_keys(folder)
    init_seal_cert(folder, "Example Board", datetime(2026, 8, 1, tzinfo=UTC), b"pass phrase")
    seal = load_seal(folder, b"pass phrase")
    out = tmp_path_factory.mktemp("out")
    series = tuple(load_series(EXAMPLES / name) for name in ("step-2026-06", "cambridge-2026-06"))
    rendered: list[RenderedStatement] = []
    combined: dict[str, bytes] = {}
    sealed: set[str] = set()
    for s in series:
        # STEP with a PAdES seal on every PDF, as `keys init --seal-cert` makes it.
        sealing = seal if s is series[0] else None
        done = render_statements(seal_series(s, keys), out / s.info.code, workers=2,
                                 batch_size=3, progress=no_progress, now=NOW, seal=sealing)
        rendered += done
        for centre in s.centres:
            items = [r for r in done if r.statement.centre.number == centre.number]
            if items:
                data = centre_zip(s, centre, items, b"", now=NOW, seal=sealing)
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    combined[f"{s.info.code}/{centre.number}"] = zf.read("statements.pdf")
                if sealing is not None:
                    sealed.add(f"{s.info.code}/{centre.number}")
    return Made(series, tuple(rendered), combined, frozenset(sealed),
                tuple(explanation_pdf(s, now=NOW) for s in series))


def every_pdf(made: Made) -> Iterator[tuple[str, pikepdf.Pdf]]:
    for r in made.rendered:
        yield str(r.pdf), pikepdf.open(r.pdf)
    for name, data in made.combined.items():
        yield f"{name}/statements.pdf", pikepdf.open(io.BytesIO(data))
    for i, data in enumerate(made.explanations):
        yield f"explanation {i}", pikepdf.open(io.BytesIO(data))


def xmp(pdf: pikepdf.Pdf) -> ElementTree.Element:
    return ElementTree.fromstring(pdf.Root.Metadata.read_bytes())


def xmp_value(root: ElementTree.Element, prefix: str, name: str) -> str | None:
    key = f"{{{_NS[prefix]}}}{name}"
    for desc in root.iter(f"{{{_NS['rdf']}}}Description"):
        if key in desc.attrib:
            return desc.attrib[key]
        found = desc.find(f"{prefix}:{name}", _NS)
        if found is not None:
            texts = [t for t in found.itertext() if t.strip()]
            return texts[0] if texts else ""
    return None


def test_every_pdf_identifies_as_pdfa3u_and_pdfua1(made: Made) -> None:
    for name, pdf in every_pdf(made):
        assert pdf.pdf_version == "1.7", name
        meta = xmp(pdf)
        assert xmp_value(meta, "pdfaid", "part") == "3", name
        assert xmp_value(meta, "pdfaid", "conformance") == "U", name
        assert xmp_value(meta, "pdfuaid", "part") == "1", name
        with pdf.open_metadata() as m:  # pikepdf's own reading of the same packet
            assert m.pdfa_status == "3U", name
        assert b"pdfaExtension:schemas" in pdf.Root.Metadata.read_bytes()  # declares pdfuaid
        assert len(pdf.trailer.ID) == 2, name


def test_every_pdf_has_title_language_dates_and_matching_info(made: Made) -> None:
    stamp = NOW.isoformat()
    for name, pdf in every_pdf(made):
        meta = xmp(pdf)
        title = xmp_value(meta, "dc", "title")
        assert title and str(pdf.docinfo.Title) == title, name
        assert str(pdf.Root.Lang) == "en", name
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle), name
        assert xmp_value(meta, "xmp", "CreateDate") == stamp, name
        assert str(pdf.docinfo.CreationDate) == "D:20260819073000+00'00", name
        assert str(pdf.docinfo.Producer) == xmp_value(meta, "pdf", "Producer"), name
        assert str(pdf.docinfo.Creator) == xmp_value(meta, "xmp", "CreatorTool"), name
    titles = {_title(pikepdf.open(r.pdf)) for r in made.rendered}
    assert len(titles) == len(made.rendered)  # each split PDF its own title
    for r in made.rendered:
        title = _title(pikepdf.open(r.pdf))
        assert r.statement.entry.candidate.name in title and "Statement of Results" in title
    for name, data in made.combined.items():
        title = _title(pikepdf.open(io.BytesIO(data)))
        assert title.startswith("Statements of Results") and name.split("/")[1] in title


def _title(pdf: pikepdf.Pdf) -> str:
    with pdf:
        return str(pdf.docinfo.Title)


def test_every_pdf_has_an_srgb_output_intent_and_embedded_fonts(made: Made) -> None:
    for name, pdf in every_pdf(made):
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1", name
        profile = intent.DestOutputProfile
        header = profile.read_bytes()[:20]
        assert int(profile.N) == 3 and header[12:20] == b"mntrRGB ", name  # an RGB display profile
        assert "sRGB" in str(intent.OutputConditionIdentifier), name
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                desc = (font.DescendantFonts[0] if "/DescendantFonts" in font else font)
                fd = desc.FontDescriptor
                assert any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")), name
                assert "/ToUnicode" in font, name


def test_every_pdf_is_marked_and_all_its_content_is_tagged(made: Made) -> None:
    for name, pdf in every_pdf(made):
        assert bool(pdf.Root.MarkInfo.Marked), name
        root = pdf.Root.StructTreeRoot
        (document,) = root.K
        assert document.S == "/Document" and len(document.K) > 0, name
        nums = root.ParentTree.Nums
        tree = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        for page in pdf.pages:
            mapped = tree[int(page.StructParents)]
            assert all(e.Pg.objgen == page.objgen for e in mapped), name
            mcids = _painting_outside_tags(page)
            assert mcids is not None, f"{name}: content drawn outside any tag or artifact"
            assert sorted(mcids) == list(range(len(mapped))), name


def _painting_outside_tags(page: pikepdf.Page) -> list[int] | None:
    """The page's MCIDs, or None if something is painted outside marked content."""
    depth, mcids = 0, []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op in ("BDC", "BMC"):
            depth += 1
            if op == "BDC" and isinstance(operands[1], pikepdf.Dictionary) \
                    and "/MCID" in operands[1]:
                mcids.append(int(operands[1].MCID))
        elif op == "EMC":
            depth -= 1
        elif op in _PAINT and depth == 0:
            return None
    return mcids


def structure(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    out, stack = [], [pdf.Root.StructTreeRoot.K[0]]
    while stack:
        e = stack.pop()
        out.append(e)
        kids = e.get("/K")
        for k in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(k, pikepdf.Dictionary) and "/S" in k:
                stack.append(k)
    return out


def test_statements_have_headings_a_results_table_and_described_figures(made: Made) -> None:
    for r in made.rendered:
        pdf = pikepdf.open(r.pdf)
        elements = structure(pdf)
        roles = [str(e.S) for e in elements]
        assert roles.count("/H1") == 1 and "/H2" in roles, r.pdf
        assert roles.count("/Table") == 1 and "/Caption" in roles
        ths = [e for e in elements if e.S == "/TH"]
        assert {str(e.A.Scope) for e in ths} == {"/Column", "/Row"}
        tds = [e for e in elements if e.S == "/TD"]
        ids = {str(e.ID) for e in ths}
        assert tds and all(set(map(str, e.A.Headers)) <= ids and e.A.Headers for e in tds)
        alts = [str(e.Alt) for e in elements if e.S == "/Figure"]
        chart = chart_layout(r.statement.entry)
        assert sorted(alts) == sorted([SVG_TITLE] + ([chart.description] if chart else []))
        (qr,) = [e for e in elements if e.S == "/Figure" and str(e.Alt) == SVG_TITLE]
        x1, y1, x2, y2 = (float(v) for v in qr.A.BBox)  # user space: points, bottom left
        assert x2 - x1 == pytest.approx(30 / 25.4 * 72, abs=0.5) == pytest.approx(y2 - y1, abs=0.5)
        assert 0 < x1 < x2 < float(pdf.pages[0].MediaBox[2])
        assert 0 < y1 < y2 < float(pdf.pages[0].MediaBox[3]) / 2  # in the lower half


def test_statements_pdf_keeps_every_statement_with_its_own_structure(made: Made) -> None:
    for name, data in made.combined.items():
        pdf = pikepdf.open(io.BytesIO(data))
        code, centre = name.split("/")
        count = sum(1 for r in made.rendered if r.statement.centre.number == centre
                    and r.statement.series.code == code)
        assert len(pdf.pages) == count
        elements = structure(pdf)
        assert [str(e.S) for e in elements].count("/H1") == count
        alts = [str(e.get("/Alt")) for e in elements if e.S == "/Figure"]
        assert alts.count(SVG_TITLE) == count
        ids = [str(e.ID) for e in elements if "/ID" in e]
        assert len(ids) == len(set(ids))
        tree = pdf.Root.StructTreeRoot.IDTree.Names
        assert sorted(ids) == [str(tree[i]) for i in range(0, len(tree), 2)]
        for e in elements:
            if e.S != "/Document":
                assert any(k.objgen == e.objgen for k in _kids(e.P)), name


def test_a_sealed_statements_pdf_carries_only_its_own_seal(made: Made) -> None:
    assert made.sealed
    for name in made.sealed:
        pdf = pikepdf.open(io.BytesIO(made.combined[name]))
        assert "/Perms" not in pdf.Root, name
        (field,) = pdf.Root.AcroForm.Fields  # the seal of the joined file, nothing else
        assert field.FT == "/Sig" and str(field.T) == FIELD and "/Reference" not in field.V
        widgets = [(n, a) for n, page in enumerate(pdf.pages) for a in page.get("/Annots", [])]
        assert [(n, a.objgen) for n, a in widgets] == [(0, field.objgen)], name
        forms = [e for e in structure(pdf) if e.S == "/Form"]
        assert [f.K.Obj.objgen for f in forms] == [field.objgen], name
        nums = pdf.Root.StructTreeRoot.ParentTree.Nums
        marked = [nums[i + 1] for i in range(0, len(nums), 2)
                  if isinstance(nums[i + 1], pikepdf.Dictionary)]
        assert [m.objgen for m in marked] == [forms[0].objgen], name
        assert int(field.StructParent) in [int(nums[i]) for i in range(0, len(nums), 2)]
    for r in made.rendered:  # each statement alone keeps its own seal
        if any(name.endswith("/" + r.statement.centre.number) for name in made.sealed):
            with pikepdf.open(r.pdf) as pdf:
                (own,) = pdf.Root.AcroForm.Fields
                assert own.FT == "/Sig" and own.V.Contents, r.pdf


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_statements_pdf_pages_read_as_the_statements_do(made: Made) -> None:
    for name, data in made.combined.items():
        code, centre = name.split("/")
        mine = sorted((r for r in made.rendered if r.statement.centre.number == centre
                       and r.statement.series.code == code),
                      key=lambda r: statement_order(r.statement))
        # Smaller than its statements together: nothing in them is stored uncompressed,
        # and what they repeat (the sRGB profile, the same font subsets) is stored once.
        assert len(data) < sum(r.pdf.stat().st_size for r in mine), name
        with pikepdf.open(io.BytesIO(data)) as pdf:
            streams = [(bytes(o.stream_dict.unparse()), o.read_raw_bytes())
                       for o in pdf.objects if isinstance(o, pikepdf.Stream)]
        assert len(streams) == len(set(streams)), name
        pages = _pdftotext(data).split("\f")
        assert pages[-1] == "" and len(pages) == len(mine) + 1, name
        assert pages[:-1] == [_pdftotext(r.pdf.read_bytes()).rstrip("\f") for r in mine], name


def _kids(e: pikepdf.Dictionary) -> list[pikepdf.Object]:
    k = e.get("/K")
    return list(k) if isinstance(k, pikepdf.Array) else [k]


def names_in(series: tuple[Series, ...]) -> set[str]:
    return {c.name for s in series for c in s.candidates}


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_pdftotext_gives_every_example_name_exactly(made: Made) -> None:
    names = names_in(made.series)
    assert {"محمد الأحمد", "प्रिया पटेल", "李思远", "김지훈", "Trần Văn Ngọc"} <= names
    for r in made.rendered:
        assert _nfc(r.statement.entry.candidate.name) in _pdftotext(r.pdf.read_bytes()), r.pdf
    for name, data in made.combined.items():
        text = _pdftotext(data)
        code, centre = name.split("/")
        for r in made.rendered:
            if r.statement.centre.number == centre and r.statement.series.code == code:
                assert _nfc(r.statement.entry.candidate.name) in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_pdftotext_gives_every_factory_name_exactly(tmp_path: Path) -> None:
    from factories import cambridge_series

    keys = make_keys(tmp_path / "keys")
    series = cambridge_series(per_centre=len(NAMES), n_centres=1, with_codes=False)
    done = render_statements(seal_series(series, keys), tmp_path / "out", workers=1,
                             batch_size=len(NAMES), progress=no_progress, now=NOW)
    assert {r.statement.entry.candidate.name for r in done} == set(NAMES)
    for r in done:
        assert _nfc(r.statement.entry.candidate.name) in _pdftotext(r.pdf.read_bytes())


def _pdftotext(data: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    # pdftotext wraps a right-to-left run in RLE ... PDF (U+202B, U+202C) for display;
    # they are not part of the text.
    return _nfc(done.stdout.decode("utf-8").translate(_BIDI_CONTROLS))


_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F])


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def test_the_pdfua_checker_finds_nothing(made: Made, tmp_path: Path) -> None:
    checker = shutil.which("pdfua", path=str(Path(sys.executable).parent))
    if checker is None:
        pytest.skip("the pdfua checker is not installed")
    files = [str(made.rendered[0].pdf), str(made.rendered[-1].pdf)]
    for i, data in enumerate([next(iter(made.combined.values())), made.explanations[0]]):
        f = tmp_path / f"{i}.pdf"
        f.write_bytes(data)
        files.append(str(f))
    done = subprocess.run([checker, "check", *files], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout
