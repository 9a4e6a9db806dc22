"""The public site: nothing in it reveals a name, a number, a result or a key."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from factories import EXAMPLES
from release_support import read_rows, write_rows

from results_online.build.grading.converter import anchors, convert
from results_online.build.pipeline import build
from results_online.build.site import pages
from results_online.config import build_config
from results_online.errors import BuildError
from results_online.keys.store import init_keys
from results_online.web import headers_file, site_csp
from results_online.wording import wording_catalogue

ROOT = EXAMPLES.parent
RELEASED = "2026-09-01T09:00:00+00:00"
BEFORE = "2026-08-01T09:00:00+00:00"
BINARY = (".bin", ".age")


@dataclass(frozen=True)
class Example:
    name: str
    series: Path
    keys: Path
    out: Path

    def rows(self, file: str) -> list[dict[str, str]]:
        return read_rows(self.series / file)


def make(tmp: Path, name: str, now: str, keys: Path | None = None) -> Example:
    series = tmp / name / "series"
    shutil.copytree(EXAMPLES / name, series)
    if keys is None:
        keys = tmp / "keys"
        if not keys.exists():
            init_keys(keys, date(2026, 1, 1))
    out = tmp / name / "out"
    build(build_config(str(series), str(keys), str(out), now=now, workers=1))
    return Example(name, series, keys, out)


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> list[Example]:
    tmp = tmp_path_factory.mktemp("site")
    return [make(tmp, name, RELEASED) for name in ("step-2026-06", "cambridge-2026-06")]


def public_files(out: Path) -> Iterator[tuple[Path, bytes]]:
    for path in sorted((out / "site").rglob("*")):
        if path.is_file():
            yield path, path.read_bytes()


def secrets_of(ex: Example) -> list[tuple[str, bytes, bool]]:
    """(what, bytes to look for, look in binaries too): every private fact of the series."""
    found: list[tuple[str, bytes, bool]] = []
    for c in ex.rows("candidates.csv"):
        for column in ("candidate_id", "name", "email", "candidate_number", "secret_number"):
            value = c[column].encode()
            # Short values occur by chance in kilobytes of ciphertext; look for them in
            # the text files only, where they would be readable.
            found.append((f"{column} of {c['candidate_id']}", value, len(value) >= 8))
    for link in read_rows(ex.out / "private" / "links.csv"):
        key_text = link["link"].split(".")[-1]
        found.append(("a link key", key_text.encode(), True))
        found.append(("a raw link key", base64.urlsafe_b64decode(key_text + "="), True))
    for secret in ("pepper", "statement-secret"):
        raw = (ex.keys / secret).read_bytes()
        found += [(secret, raw, True), (secret + " (hex)", raw.hex().encode(), True),
                  (secret + " (base64)", base64.b64encode(raw).rstrip(b"="), True)]
    for pem in (ex.keys / "signing").glob("*.pem"):
        body = b"".join(pem.read_bytes().splitlines()[1:-1])
        found.append(("the signing key", body, True))
    return found


def test_no_public_file_holds_a_name_number_secret_or_key(examples: list[Example]) -> None:
    for ex in examples:
        files = list(public_files(ex.out))
        assert any(p.suffix == ".bin" for p, _ in files)
        assert any(p.suffix == ".age" for p, _ in files)
        for what, needle, in_binaries in secrets_of(ex):
            pattern = re.compile(rb"(?<![0-9A-Za-z])" + re.escape(needle) + rb"(?![0-9A-Za-z])")
            for path, data in files:
                if path.suffix in BINARY and not in_binaries:
                    continue
                hit = (needle in data) if path.suffix in BINARY else pattern.search(data)
                assert not hit, f"{what} found in {path.relative_to(ex.out)}"


def test_ciphertext_is_all_that_carries_statements(examples: list[Example]) -> None:
    for ex in examples:
        for path, data in public_files(ex.out):
            if path.suffix in BINARY:
                assert b"%PDF" not in data and b"<html" not in data.lower()
                assert b"PK\x03\x04" not in data  # no zip in the clear


def vary(series: Path) -> None:
    """Other names, candidate numbers and marks: the same series settings."""
    cands = read_rows(series / "candidates.csv")
    for i, c in enumerate(cands):
        c["name"] = f"Someone Else {i}"
        c["candidate_number"] = f"{9000 + i}"
        c["secret_number"] = f"{123456 + i}"
    write_rows(series / "candidates.csv", cands)
    results = read_rows(series / "results.csv")
    for r in results:
        if r["mark"].isdigit():
            r["mark"], r["grade"] = str((int(r["mark"]) + 37) % 121), ""
    write_rows(series / "results.csv", results)


def test_public_pages_depend_on_no_candidate_and_no_result(examples: list[Example],
                                                          tmp_path: Path) -> None:
    step = examples[0]
    varied = tmp_path / "varied"
    shutil.copytree(step.series, varied)
    vary(varied)
    out = tmp_path / "out"
    build(build_config(str(varied), str(step.keys), str(out), now=RELEASED, workers=1))

    def pages(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): d for p, d in public_files(root)
                if p.suffix not in BINARY}

    assert pages(step.out) == pages(out)
    assert len(pages(out)) > 10


def test_pages_carry_their_security_policy_and_the_headers_file_lists_it(
        examples: list[Example]) -> None:
    site = examples[1].out / "site"
    csp = site_csp("http://127.0.0.1:8001")
    for page in ("index.html", "statement/index.html", "centres/index.html",
                 "centres/open/index.html", "centres/enrol/index.html",
                 "explanation/index.html", "converter/index.html"):
        html = unescape((site / page).read_text(encoding="utf-8"))
        assert f'content="{csp}"' in html, page
        assert '<meta name="referrer" content="no-referrer">' in html
        assert "<script>" not in html and " style=" not in html and "<style" not in html
    q = unescape((site / "q" / "index.html").read_text(encoding="utf-8"))
    assert "script-src 'self'" in q and "no-referrer" in q
    headers = (site / "_headers").read_text(encoding="utf-8")
    assert headers == headers_file("http://127.0.0.1:8001")
    for needed in ("Referrer-Policy: no-referrer", "X-Content-Type-Options: nosniff",
                   "frame-ancestors 'none'"):
        assert needed in headers
    keyset = (site / ".well-known" / "results-keys.json").read_text(encoding="utf-8")
    assert keyset == (examples[1].keys / "keyset.json").read_text(encoding="utf-8")
    assert json.loads((site / "wording.json").read_text("utf-8")) == wording_catalogue()
    # Each page's module and every module it imports is on the site.
    pages = [unescape((site / p).read_text("utf-8")) for p in
             ("q/index.html", "statement/index.html", "converter/index.html")]
    todo = [m for html in pages for m in re.findall(r'<script type="module" src="/([\w.]+)"', html)]
    assert len(todo) == 3
    while todo:
        module = todo.pop()
        text = (site / module).read_text(encoding="utf-8")
        todo += re.findall(r'from "\./([\w.]+)"', text)


def test_before_the_release_the_site_says_forthcoming_and_holds_no_statement(
        tmp_path: Path) -> None:
    ex = make(tmp_path, "step-2026-06", BEFORE)
    site = ex.out / "site"
    assert not list(site.glob("s/*")) and not list(site.glob("c/**/*.age"))
    for page in ("index.html", "statement/index.html", "explanation/index.html"):
        assert "Forthcoming results" in (site / page).read_text(encoding="utf-8")
    # Grade boundaries are published with the results, not before.
    assert "Grade boundaries" not in (site / "explanation/index.html").read_text("utf-8")
    staged = ex.out / "private" / "staged" / "after_release"
    assert "Grade boundaries" in (staged / "explanation/index.html").read_text("utf-8")
    assert len(list((ex.out / "private" / "staged" / "candidate" / "s").glob("*.bin"))) == 12


def test_the_converter_meets_every_published_boundary() -> None:
    # B2 First: A from 80 → 180, B 75 → 173, C 60 → 160, B1 45 → 140, 100 → 190.
    assert [convert("FCE", s) for s in (45, 60, 75, 80, 100)] == [140, 160, 173, 180, 190]
    assert [convert("CPE", s) for s in (45, 60, 75, 80, 100)] == [180, 200, 213, 220, 230]
    assert convert("CAE", 70) == 189  # 180 + 13 * 10/15 = 188.67
    for code in ("FCE", "CAE", "CPE"):
        scores = [convert(code, s) for s in range(45, 101)]
        assert scores == sorted(scores) and anchors(code)[0][0] == 45
    with pytest.raises(ValueError, match="45 to 100"):
        convert("FCE", 44)
    with pytest.raises(ValueError, match="no standardised"):
        convert("KET", 70)


def test_the_converter_page_shows_its_table_and_source(examples: list[Example]) -> None:
    html = (examples[1].out / "site" / "converter" / "index.html").read_text(encoding="utf-8")
    assert "<tr><td>70</td><td>169</td></tr>" in html  # B2 First
    assert "Source:" in html
    assert not (examples[0].out / "site" / "converter").exists()  # STEP: no scale scores


def test_the_browser_libraries_are_the_locked_versions_with_their_hashes_recorded(
        examples: list[Example]) -> None:
    site = examples[0].out / "site"
    record = json.loads((site / "vendor" / "vendor.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    assert set(record) == {"age.js", "fflate.js"}
    for file, entry in record.items():
        data = (site / "vendor" / file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
        for package, version in entry["includes"].items():
            assert lock[f"node_modules/{package}"]["version"] == version, package
        for package, exported in entry["exports"].items():
            assert lock[f"node_modules/{package}"]["version"] == exported["version"]
    # Every name a page imports from a bundle is one the bundle was made to export.
    for script in site.glob("*.js"):
        text = script.read_text(encoding="utf-8")
        for names, file in re.findall(r'import \{([^}]*)\} from "/vendor/([^"]+)"', text):
            offered = {n for e in record[file]["exports"].values() for n in e["names"]}
            assert {n.strip() for n in names.split(",")} <= offered, script.name


def test_a_site_without_its_bundled_libraries_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise FileNotFoundError(name)

    monkeypatch.setattr(pages, "read_asset", missing)
    with pytest.raises(BuildError, match=r"age\.js is missing") as caught:
        pages.vendor_asset("age.js")
    assert "bootstrap" in caught.value.hint


def test_every_page_has_the_board_its_contact_and_the_help_pages_in_its_footer(
        examples: list[Example]) -> None:
    from results_online.build.inputs.load import load_series

    for ex in examples:
        info = load_series(ex.series).info
        pages_ = sorted((ex.out / "site").rglob("index.html*"))
        assert len(pages_) >= 12
        for page in pages_:
            text = unescape(page.read_text(encoding="utf-8"))
            for path in ("/help/", "/verifying/", "/terms/", "/privacy/", "/accessibility/"):
                # Root-relative on the site's pages; the QR page, also served by the
                # app, links the site by its address.
                assert re.search(rf'href="({re.escape(info.site_url)})?{path}"', text), (
                    page, path)
            assert info.board in text and info.contact in text, page
            assert 'data-text-size="1"' in text and "/textsize.js" in text, page


def test_the_catalogue_names_every_test_and_paper_and_nobody(examples: list[Example]) -> None:
    from results_online.build.inputs.load import load_series

    for ex in examples:
        series = load_series(ex.series)
        info = series.info
        path = ex.out / "site" / "catalogue" / f"{info.year:04d}-{info.month:02d}.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["board"] == info.board and doc["series"] == info.name
        assert doc["tests"] == {
            t.code: {"name": t.name, "family": t.family.value,
                     "not_a_certificate": t.not_a_certificate,
                     "components": {c.code: c.title for c in t.components}}
            for t in series.tests}
        text = path.read_text(encoding="utf-8")
        for c in series.candidates:
            assert c.name not in text and c.candidate_id not in text
        for centre in series.centres:
            assert centre.name not in text
