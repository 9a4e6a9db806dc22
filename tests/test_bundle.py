"""Centre bundles: the age CLI opens a centre's bundle and no other; the zip is complete."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pypdf
import pyrage
import pytest
from factories import EXAMPLES
from release_support import read_rows, write_rows

from results_online.build.bundle.centre import build_bundles, centre_zip, encrypt_to, results_csv
from results_online.build.bundle.explanation import explanation_pdf, grade_distributions
from results_online.build.grading.enquiry import (
    appeal_deadline,
    bank_holidays,
    enquiry_deadline,
    enquiry_rule,
)
from results_online.build.pipeline import build
from results_online.build.render.statements import RenderedStatement, render_statements
from results_online.config import build_config
from results_online.errors import BuildError
from results_online.keys.store import init_keys
from results_online.model import Series, Statement, Status
from results_online.progress import no_progress
from tests.factories import cambridge_series, sealed, step_series

NOW = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
LAYOUT = {"index.html", "results.csv", "results.xlsx", "statements.pdf",
          "explanation-of-results.pdf"}


@dataclass(frozen=True)
class Built:
    series: Series
    rendered: tuple[RenderedStatement, ...]
    identity_files: dict[str, list[Path]]  # centre → files of identities it lists
    bundles: dict[str, Path]
    unzipped: dict[str, Path]


def mixed_series(recipients: dict[str, tuple[str, ...]]) -> Series:
    """Two centres with STEP and B2 First candidates: result codes, one STEP paper only."""
    step = step_series(per_centre=3, n_centres=2)
    first = step.entries[0]
    one_paper = replace(first, components=first.components[1:])  # sat 9475 only
    step = replace(step, entries=(one_paper, *step.entries[1:]))
    fce = cambridge_series(per_centre=2, n_centres=2)
    renumbered = tuple(replace(e, candidate=replace(
        e.candidate, candidate_id=f"F{i:07d}", number=f"9{e.candidate.number}"))
        for i, e in enumerate(fce.entries))
    centres = tuple(replace(c, recipients=recipients[c.number]) for c in step.centres)
    entries = (*step.entries, *renumbered)
    return Series(step.info, (*step.tests, *fce.tests), centres,
                  tuple(e.candidate for e in entries), entries)


def age_decrypt(bundle: Path, identity: Path) -> subprocess.CompletedProcess[bytes]:
    """Debian's age CLI, decrypting to stdout."""
    return subprocess.run(["age", "-d", "-i", str(identity), str(bundle)],
                          capture_output=True, check=False, timeout=60)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("bundle")
    # GB001 lists two recipients (two exam officers), GB002 one.
    ids = {"GB001": [pyrage.x25519.Identity.generate() for _ in range(2)],
           "GB002": [pyrage.x25519.Identity.generate()]}
    files: dict[str, list[Path]] = {}
    for centre, identities in ids.items():
        files[centre] = []
        for i, identity in enumerate(identities):
            f = root / f"{centre}-{i}.key"
            f.write_text(str(identity) + "\n")
            f.chmod(0o600)
            files[centre].append(f)
    series = mixed_series({c: tuple(str(i.to_public()) for i in v) for c, v in ids.items()})
    statements = sealed(series, root / "keys")
    rendered = render_statements(statements, root / "rendered", workers=1, batch_size=50,
                                 progress=no_progress, now=NOW)
    made = build_bundles(series, rendered, root / "c", now=NOW)
    bundles = {b.centre: b.path for b in made}
    unzipped = {}
    for centre, path in bundles.items():
        done = age_decrypt(path, files[centre][0])
        assert done.returncode == 0, done.stderr
        folder = root / "unzipped" / centre
        with zipfile.ZipFile(io.BytesIO(done.stdout)) as zf:
            zf.extractall(folder)
        unzipped[centre] = folder
    return Built(series, rendered, files, bundles, unzipped)


def of_centre(built: Built, centre: str) -> list[Statement]:
    return [r.statement for r in built.rendered if r.statement.centre.number == centre]


def test_bundles_are_written_per_centre_with_counts(built: Built) -> None:
    assert set(built.bundles) == {"GB001", "GB002"}
    for centre, path in built.bundles.items():
        assert path.parent.name == centre and path.name == "2026-06.zip.age"
        assert path.read_bytes().startswith(b"age-encryption.org/v1\n")


def test_every_recipient_of_a_centre_can_open_it_and_no_other_centre_can(built: Built) -> None:
    for f in built.identity_files["GB001"]:
        assert age_decrypt(built.bundles["GB001"], f).returncode == 0
    refused = age_decrypt(built.bundles["GB001"], built.identity_files["GB002"][0])
    assert refused.returncode != 0 and refused.stdout == b""
    refused = age_decrypt(built.bundles["GB002"], built.identity_files["GB001"][1])
    assert refused.returncode != 0 and refused.stdout == b""


@pytest.mark.parametrize("centre", ["GB001", "GB002"])
def test_zip_holds_every_file_for_the_centre(built: Built, centre: str) -> None:
    folder = built.unzipped[centre]
    mine = of_centre(built, centre)
    names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    expected = LAYOUT | {f"statements/{s.entry.candidate.number}-{s.entry.test.code}.pdf"
                         for s in mine}
    assert names == expected
    merged = pypdf.PdfReader(folder / "statements.pdf")
    assert len(merged.pages) == len(mine)
    order = sorted(mine, key=lambda s: (int(s.entry.candidate.number), s.entry.test.code))
    for page, s in zip(merged.pages, order, strict=True):
        assert s.display_id in page.extract_text()  # candidate-number order
        single = pypdf.PdfReader(folder / "statements" /
                                 f"{s.entry.candidate.number}-{s.entry.test.code}.pdf")
        assert len(single.pages) == 1
        assert s.display_id in single.pages[0].extract_text()
    explanation = pypdf.PdfReader(folder / "explanation-of-results.pdf")
    text = "\n".join(p.extract_text() for p in explanation.pages)
    assert "Explanation of Results" in text and "B2 First" in text and "9475" in text


@pytest.mark.parametrize("centre", ["GB001", "GB002"])
def test_no_other_centres_candidate_is_in_the_bundle(built: Built, centre: str) -> None:
    folder = built.unzipped[centre]
    others = [s for r in built.rendered if (s := r.statement).centre.number != centre]
    text = (folder / "results.csv").read_text("utf-8-sig") + (folder / "index.html").read_text()
    mine_names = {s.entry.candidate.name for s in of_centre(built, centre)}
    for s in others:
        assert s.entry.candidate.candidate_id not in text
        assert s.statement_id not in text
        if s.entry.candidate.name not in mine_names:  # the factories reuse names
            assert s.entry.candidate.name not in text
    for s in of_centre(built, centre):
        assert s.statement_id in text and s.entry.candidate.name in text


def test_csv_imports_one_row_per_paper_or_skill_plus_overall(built: Built) -> None:
    raw = (built.unzipped["GB001"] / "results.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    mine = of_centre(built, "GB001")
    expected = sum(len(s.entry.components) + (s.entry.overall is not None) for s in mine)
    assert len(rows) == expected
    for s in mine:
        e = s.entry
        got = [r for r in rows if r["statement_id"] == s.statement_id]
        assert {r["candidate_number"] for r in got} == {e.candidate.number}  # "0001" kept
        assert {r["candidate_id"] for r in got} == {e.candidate.candidate_id}
        for comp in e.components:
            row = next(r for r in got if r["component_code"] == comp.component.code)
            assert row["result_status"] == comp.status.value
            assert row["grade"] == (comp.grade or "")
            column = "scale_score" if e.overall is not None else "mark"
            assert row[column] == ("" if comp.mark is None else str(comp.mark))
        overall = [r for r in got if r["row_type"] == "overall"]
        if e.overall is None:
            assert not overall
        else:
            assert overall[0]["scale_score"] == ("" if e.overall.score is None
                                                 else str(e.overall.score))
            assert overall[0]["cefr_level"] == (e.overall.cefr or "")
        for r in got:
            assert date.fromisoformat(r["issue_date"]) == s.issue_date
            assert date.fromisoformat(r["release_date"]) == date(2026, 8, 19)


def test_csv_neutralises_spreadsheet_formulas(tmp_path: Path) -> None:
    series = step_series(per_centre=1, n_centres=1, names=["=HYPERLINK(\"x\")"],
                         with_codes=False)
    statements = sealed(series, tmp_path / "keys")
    text = results_csv(series, statements).decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["candidate_name"] == "'=HYPERLINK(\"x\")"


def test_zip_is_deterministic(built: Built) -> None:
    centre = built.series.centre("GB002")
    items = [r for r in built.rendered if r.statement.centre.number == "GB002"]
    explanation = b"%PDF-fixed"
    first = centre_zip(built.series, centre, items, explanation, now=NOW)
    assert first == centre_zip(built.series, centre, items, explanation, now=NOW)


def test_pdfs_are_stored_as_they_are_and_the_rest_deflated(built: Built) -> None:
    centre = built.series.centre("GB001")
    items = [r for r in built.rendered if r.statement.centre.number == "GB001"]
    with zipfile.ZipFile(io.BytesIO(centre_zip(built.series, centre, items, b"%PDF-x",
                                               now=NOW))) as zf:
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
        assert zf.testzip() is None
    assert {n for n, k in kinds.items() if k == zipfile.ZIP_STORED} == {
        n for n in kinds if n.endswith(".pdf")}
    assert kinds["results.csv"] == kinds["index.html"] == zipfile.ZIP_DEFLATED


def test_centre_without_a_valid_recipient_is_refused(built: Built) -> None:
    centre = built.series.centre("GB001")
    with pytest.raises(BuildError, match="no age recipient"):
        encrypt_to(b"zip", replace(centre, recipients=()))
    with pytest.raises(BuildError, match="not an age"):
        encrypt_to(b"zip", replace(centre, recipients=("age1notakey",)))


def test_distribution_counts_every_centre(built: Built) -> None:
    dists = {d.subject: d for d in grade_distributions(built.series)}
    step = built.series.tests[0]
    for comp in step.components:
        d = dists[f"{comp.code} {comp.title}"]
        results = [r for e in built.series.entries for r in e.components
                   if r.component.code == comp.code]
        graded = [r.grade for r in results if r.status is Status.OK]
        assert d.graded == len(graded) and d.without_result == len(results) - len(graded)
        assert {g.grade: g.count for g in d.grades} == {
            g: graded.count(g) for g, _ in comp.boundaries}
        assert d.grades[-1].cumulative == (100.0 if graded else 0.0)
    fce = dists["B2 First overall"]
    overall = [e.overall for e in built.series.entries if e.overall is not None]
    ok = [o.grade or "No certificate" for o in overall if o.status is Status.OK]
    assert fce.graded == len(ok)
    assert {g.grade: g.count for g in fce.grades if g.count} == Counter(ok)
    assert [g.grade for g in fce.grades][:3] == ["A", "B", "C"]
    pdf = pypdf.PdfReader(io.BytesIO(explanation_pdf(built.series, now=NOW)))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert f"{len(built.series.entries)} entries" in text


def matches(s: Statement, query: str) -> bool:
    """What filter-as-you-type should show: every typed word is in name, number or test."""
    e = s.entry
    key = f"{e.candidate.name} {e.candidate.number} {e.test.code} {e.test.name}".lower()
    return all(word in key for word in query.lower().split())


# --- the offline overview, in Debian's chromium -------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.mark.browser
def test_overview_filters_as_you_type_and_shows_deadlines(built: Built, chromium: object) -> None:
    from playwright.sync_api import Browser, expect
    assert isinstance(chromium, Browser)
    page = chromium.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    today = date(2026, 8, 20)
    page.clock.set_fixed_time(datetime(today.year, today.month, today.day, 10, tzinfo=UTC))
    index = built.unzipped["GB001"] / "index.html"
    page.goto(index.as_uri())
    mine = of_centre(built, "GB001")
    rows = page.locator("#candidates tbody tr")
    expect(rows).to_have_count(len(mine))

    first = mine[0].entry.candidate
    for query in (first.name.split()[0], first.number, "b2 first", mine[-1].entry.candidate.name):
        page.fill("#filter", query)
        expected = [s for s in mine if matches(s, query)]
        assert len(expected) > 0
        visible = page.locator("#candidates tbody tr:visible")
        expect(visible).to_have_count(len(expected))
        for s in expected:
            expect(visible.filter(has_text=s.entry.candidate.number)).not_to_have_count(0)
    page.fill("#filter", "zoe")  # accents need not be typed
    expect(page.locator("#candidates tbody tr:visible")).to_have_count(
        sum(s.entry.candidate.name.startswith("Zoë") for s in mine))
    page.fill("#filter", "nobody-like-this")
    expect(page.locator("#none")).to_be_visible()
    page.fill("#filter", "")
    expect(page.locator("#candidates tbody tr:visible")).to_have_count(len(mine))

    closed = bank_holidays([2026, 2027])
    for test in built.series.tests:
        deadline = enquiry_deadline(enquiry_rule(test), date(2026, 8, 19), closed)
        line = page.locator(f".deadline[data-deadline='{deadline.isoformat()}']")
        expect(line).to_contain_text(test.name)
        expect(line).to_contain_text(f"{deadline.day} {deadline:%B} {deadline.year}")
        expect(line.locator(".passed")).to_be_hidden()

    days_left = (built.series.info.available_until - today).days
    expect(page.locator(".days-left").first).to_have_text(str(days_left))

    outcome = date(2026, 8, 28)  # the Friday before the August bank holiday
    page.fill("#outcome", outcome.isoformat())
    appeal = appeal_deadline(outcome, closed)
    expect(page.locator("#appeal-deadline")).to_contain_text(
        f"{appeal:%A} {appeal.day} {appeal:%B} {appeal.year}")

    page.click(f"#candidates a:text-is('{first.name}')")
    view = page.locator(f"#c-{first.number}-{mine[0].entry.test.code}")
    expect(view).to_be_visible()
    expect(page.locator("#overview")).to_be_hidden()
    expect(view).to_contain_text(mine[0].entry.components[0].component.title)
    link = view.locator("a.button")
    assert (index.parent / str(link.get_attribute("href"))).is_file()
    assert problems == []
    page.close()


@pytest.mark.browser
def test_overview_marks_passed_deadlines_and_works_without_javascript(
        built: Built, chromium: object) -> None:
    from playwright.sync_api import Browser, expect
    assert isinstance(chromium, Browser)
    index = (built.unzipped["GB002"] / "index.html").as_uri()
    page = chromium.new_page()
    page.clock.set_fixed_time(datetime(2026, 12, 1, 10, tzinfo=UTC))
    page.goto(index)
    for line in page.locator(".deadline").all():
        expect(line.locator(".passed")).to_be_visible()
    page.close()

    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(index)
    mine = of_centre(built, "GB002")
    s = mine[-1]
    expect(page.locator("#candidates tbody tr:visible")).to_have_count(len(mine))
    page.click(f"#candidates a[href='#c-{s.entry.candidate.number}-{s.entry.test.code}']")
    view = page.locator(f"#c-{s.entry.candidate.number}-{s.entry.test.code}")
    expect(view).to_be_visible()
    expect(view).to_contain_text(s.display_id)
    expect(page.locator("#overview")).to_be_hidden()
    page.click(f"#c-{s.entry.candidate.number}-{s.entry.test.code} a[href='#top']")
    expect(page.locator("#overview")).to_be_visible()
    context.close()


# --- through the build: bundles staged by `results build`, refreshed by amend --------------

EXAMPLE = EXAMPLES / "step-2026-06"


def _bundle_rows(bundle: Path, identity: Path) -> tuple[list[dict[str, str]], int]:
    done = age_decrypt(bundle, identity)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(io.BytesIO(done.stdout)) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("results.csv").decode("utf-8-sig"))))
        pages = len(pypdf.PdfReader(io.BytesIO(zf.read("statements.pdf"))).pages)
    return rows, pages


def test_build_stages_bundles_and_amend_refreshes_them(tmp_path: Path) -> None:
    series = tmp_path / "series"
    shutil.copytree(EXAMPLE, series)
    cands = read_rows(series / "candidates.csv")
    by_centre: dict[str, list[dict[str, str]]] = {}
    for c in cands:
        by_centre.setdefault(c["centre_number"], []).append(c)
    keep = {c: rows[:2] for c, rows in list(by_centre.items())[:2]}  # two centres, 2 each
    kept = [c for rows in keep.values() for c in rows]
    ids = {c["candidate_id"] for c in kept}
    identities = {c: pyrage.x25519.Identity.generate() for c in keep}
    files = {}
    for c, identity in identities.items():
        files[c] = tmp_path / f"{c}.key"
        files[c].write_text(str(identity) + "\n")
    write_rows(series / "candidates.csv", kept)
    write_rows(series / "centres.csv", [
        {**row, "recipients": str(identities[row["centre_number"]].to_public())}
        for row in read_rows(series / "centres.csv") if row["centre_number"] in keep])
    results = [r for r in read_rows(series / "results.csv") if r["candidate_id"] in ids]
    write_rows(series / "results.csv", results)
    init_keys(tmp_path / "keys", date(2026, 8, 1))
    out = tmp_path / "out"

    # Before the centres' release (2026-08-12 08:00+01:00): the release plan keeps
    # bundles out of site/ until then.
    build(build_config(str(series), str(tmp_path / "keys"), str(out),
                       now="2026-08-11T09:00:00+00:00", workers=1))
    code = next(line.split('"')[1] for line in (series / "series.toml").read_text().splitlines()
                if line.startswith("code"))
    for centre, people in keep.items():
        bundle = out / "private" / "c" / centre / f"{code}.zip.age"
        rows, pages = _bundle_rows(bundle, files[centre])
        assert {r["candidate_id"] for r in rows} == {c["candidate_id"] for c in people}
        assert pages == len(people)
        other = next(c for c in keep if c != centre)
        assert age_decrypt(bundle, files[other]).returncode != 0
    assert not (out / "site" / "c").exists()  # nothing public before the release plan says so

    # A results enquiry raises one mark: the amended build's bundle carries revision 2.
    changed = keep[next(iter(keep))][0]
    row = next(r for r in results if r["candidate_id"] == changed["candidate_id"]
               and r["mark"].isdigit())
    row["mark"], row["grade"] = str(min(120, int(row["mark"]) + 20)), ""
    write_rows(series / "results.csv", results)
    build(build_config(str(series), str(tmp_path / "keys"), str(out),
                       now="2026-09-01T10:00:00+00:00", workers=1), amend=True)
    centre = changed["centre_number"]
    rows, pages = _bundle_rows(out / "private" / "c" / centre / f"{code}.zip.age", files[centre])
    mine = [r for r in rows if r["candidate_id"] == changed["candidate_id"]]
    assert {r["statement_revision"] for r in mine} == {"2"}
    assert row["mark"] in {r["mark"] for r in mine}
    assert pages == len(keep[centre])
