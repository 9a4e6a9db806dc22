"""statements.pdf joined in qpdf: pages in order, title, and the sources' structure kept.

Read back by readers other than the one that wrote it: poppler (pdfinfo, pdftotext)
and pypdf.
"""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pypdf
import pytest
from weasyprint import HTML

from results_online.build.bundle.pdfjoin import join_pdfs
from results_online.build.render.weasy import archival_pdf, metadata

META = metadata(title="Statements of Results: June 2026, centre GB001",
                author="Cambridge University Press & Assessment", lang="en",
                created=datetime(2026, 8, 1, 9, 0, tzinfo=UTC))
AUTHOR = "Cambridge University Press & Assessment"


def _source(folder: Path, name: str, text: str, *, tagged: bool) -> Path:
    html = (f"<html lang='en'><title>{name}</title><h1>{text}</h1><table><tr>"
            f"<th id='h'>Paper</th><td>{name} mark</td></tr></table>")
    path = folder / f"{name}.pdf"
    HTML(string=html).write_pdf(path, pdf_tags=tagged)
    return path


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("join")
    sources = [_source(folder, n, f"Candidate {n}", tagged=True) for n in ("one", "two", "three")]
    path = folder / "statements.pdf"
    path.write_bytes(join_pdfs(sources, META))
    return path


def _pdfinfo(path: Path, *args: str) -> str:
    return subprocess.run(["pdfinfo", *args, str(path)], capture_output=True, text=True,
                          check=True).stdout


def _fields(path: Path) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in _pdfinfo(path).splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def test_pages_in_order_with_their_text(joined: Path) -> None:
    text = subprocess.run(["pdftotext", str(joined), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")
    assert [p for p in pages if p.strip()] == [p for p in pages if "Candidate" in p]
    assert ["one" in pages[0], "two" in pages[1], "three" in pages[2]] == [True] * 3
    assert _fields(joined)["Pages"] == "3"


def test_title_and_author_are_shown(joined: Path) -> None:
    info = _fields(joined)
    assert (info["Title"], info["Author"], info["Tagged"]) == (META.title, AUTHOR, "yes")
    xmp = _pdfinfo(joined, "-meta")
    assert META.title.replace("&", "&amp;") in xmp


def test_structure_of_every_source_under_one_document(joined: Path) -> None:
    tree = _pdfinfo(joined, "-struct-text")
    assert tree.lstrip().startswith("Document")
    headings = [line.strip() for line in tree.splitlines() if "Candidate" in line]
    assert headings == ['"Candidate one"', '"Candidate two"', '"Candidate three"']
    assert tree.count("TH") == 3  # header cells of all three tables


def test_structure_points_at_the_joined_pages(joined: Path) -> None:
    reader = pypdf.PdfReader(joined)
    pages = {p.indirect_reference.idnum for p in reader.pages}  # type: ignore[union-attr]
    root = reader.trailer["/Root"]["/StructTreeRoot"]
    seen = 0
    stack = [root["/K"][0].get_object()]
    while stack:
        node = stack.pop()
        if "/Pg" in node:
            assert node.raw_get("/Pg").idnum in pages
            seen += 1
        kids = node.get("/K", [])
        kids = kids if isinstance(kids, list) else [kids]
        stack += [k.get_object() for k in kids
                  if isinstance(k.get_object(), dict) and "/S" in k.get_object()]
    assert seen >= 3
    ids = root["/IDTree"]["/Names"][::2]
    assert len(set(ids)) == len(ids) == 3  # one header id per source, made unique
    keys = [p["/StructParents"] for p in reader.pages]
    assert len(set(keys)) == 3


def test_untagged_sources_join_untagged_and_the_bytes_repeat(tmp_path: Path) -> None:
    sources = [_source(tmp_path, n, f"Candidate {n}", tagged=False) for n in ("a", "b")]
    first, again = join_pdfs(sources, META), join_pdfs(sources, META)
    assert first == again
    reader = pypdf.PdfReader(io.BytesIO(first))
    assert len(reader.pages) == 2 and "/StructTreeRoot" not in reader.trailer["/Root"]
    assert reader.metadata is not None and reader.metadata.title == META.title


def test_the_xmp_stays_plain_text(joined: Path) -> None:
    with pikepdf.open(joined) as pdf:
        assert "/Filter" not in pdf.Root.Metadata  # readable as text, as PDF/A readers expect
        assert b"Statements of Results" in pdf.Root.Metadata.read_raw_bytes()


def _ids_and_headers(data: bytes) -> tuple[list[str], list[list[str]]]:
    """Every structure element's /ID, and every cell's /Headers, read by pypdf."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    ids, headers = [], []
    stack = [reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0].get_object()]
    while stack:
        node = stack.pop()
        if "/ID" in node:
            ids.append(str(node["/ID"]))
        attributes = node.get("/A")
        if isinstance(attributes, dict) and "/Headers" in attributes:
            headers.append([str(h) for h in attributes["/Headers"]])
        kids = node.get("/K", [])
        kids = kids if isinstance(kids, list) else [kids]
        stack += [k.get_object() for k in kids
                  if isinstance(k.get_object(), dict) and "/S" in k.get_object()]
    return ids, headers


@pytest.mark.parametrize("listed", [True, False])
def test_table_header_ids_are_made_unique_and_the_cells_follow(tmp_path: Path,
                                                                listed: bool) -> None:
    sources = []
    for n in ("one", "two", "three"):
        html = ("<html lang='en'><title>t</title><table><thead><tr><th>Paper</th><th>Mark</th>"
                f"<th>Grade</th></tr></thead><tr><th>P1</th><td>{n}</td><td>A</td></tr>"
                "<tr><th>P2</th><td>50</td><td>B</td></tr></table>")
        data = archival_pdf(HTML(string=html).render(), META)  # as statements are written
        assert data is not None
        pdf = pikepdf.open(io.BytesIO(data))
        assert "/IDTree" in pdf.Root.StructTreeRoot
        if not listed:  # a source that does not list its ids: each element is looked at
            del pdf.Root.StructTreeRoot["/IDTree"]
        path = tmp_path / f"{n}.pdf"
        pdf.save(path)
        sources.append(path)
    joined = join_pdfs(sources, META)
    ids, headers = _ids_and_headers(joined)
    one, one_headers = _ids_and_headers(sources[0].read_bytes())
    assert len(ids) == len(set(ids)) == 3 * len(one) > 0
    assert len(headers) == 3 * len(one_headers) > 0
    assert all(h in ids for cell in headers for h in cell)
    # Each source's cells name the headers of its own table, as before the join.
    for i, cell in enumerate(sorted(headers)):
        assert {h.split("-", 1)[0] for h in cell} == {f"s{i // len(one_headers)}"}
    with pikepdf.open(io.BytesIO(joined)) as pdf:
        listed_ids = sorted(str(k) for k in pdf.Root.StructTreeRoot.IDTree.Names[::2])
    assert listed_ids == sorted(ids)
