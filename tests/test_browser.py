"""The static site in Debian's chromium: secure links, damaged links, the QR verify page.

The Cambridge English example is built with its site and verify URLs pointing at
a `results serve` on a free port, then opened through Playwright.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from factories import EXAMPLES
from localhost import free_port, results_server
from release_support import read_rows, write_rows
from test_qr import read_qr

from results_online.build.pipeline import build
from results_online.config import build_config
from results_online.keys.store import init_keys

pytestmark = pytest.mark.browser
EXAMPLE = EXAMPLES / "cambridge-2026-06"
RELEASED = "2026-09-01T09:00:00+00:00"


@dataclass(frozen=True)
class Site:
    base: str
    out: Path
    links: list[dict[str, str]]
    manifest: list[dict[str, Any]]
    results: list[dict[str, str]]

    def statement_of(self, link: dict[str, str]) -> dict[str, Any]:
        return next(m for m in self.manifest if m["statement_id"] == link["statement_id"])


def build_example(series: Path, keys: Path, out: Path, now: str = RELEASED) -> None:
    build(build_config(str(series), str(keys), str(out), now=now, workers=1))


@contextmanager
def served_example(tmp: Path) -> Iterator[Site]:
    """The example built into tmp/out for a free port, and `results serve` on that port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    series = tmp / "series"
    shutil.copytree(EXAMPLE, series)
    toml = (series / "series.toml").read_text(encoding="utf-8")
    toml = re.sub(r"(?m)^(site_url|verify_url)\s*=.*$", rf'\1 = "{base}"', toml)
    (series / "series.toml").write_text(toml, encoding="utf-8")
    init_keys(tmp / "keys", date(2026, 1, 1))
    out = tmp / "out"
    build_example(series, tmp / "keys", out)
    with results_server(["serve", str(out), "--port", str(port)], base + "/"):
        manifest = json.loads((out / "private" / "manifest.json").read_text("utf-8"))
        yield Site(base, out, read_rows(out / "private" / "links.csv"), manifest["statements"],
                   read_rows(series / "results.csv"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served_example(tmp_path_factory.mktemp("browser")) as s:
        yield s



def open_link(browser: Any, url: str, today: str = "2026-11-23T12:00:00Z") -> Any:
    page = browser.new_page(accept_downloads=True)
    page.clock.set_fixed_time(today)  # the page words a missing statement by the date
    page.goto(url)
    page.wait_for_selector("main[data-state]")
    if page.get_attribute("main", "data-state") == "ready":  # nothing decrypted on load
        page.click("#open")
        page.wait_for_selector("main[data-state=open], main[data-state=error]")
    return page


def test_a_secure_link_shows_the_statement_and_its_pdf(site: Site, browser: Any,
                                                       tmp_path: Path) -> None:
    arabic = next(link for link in site.links if re.search("[\u0600-\u06ff]", link["name"]))
    page = open_link(browser, arabic["link"])
    assert page.get_attribute("main", "data-state") == "open"
    shown = page.inner_text("#statement")
    assert arabic["name"] in shown
    for r in site.results:
        if r["candidate_id"] == arabic["candidate_id"] and r["test"] == arabic["test"]:
            assert r["mark"] in shown
    assert "#" not in page.url  # the key left the address bar
    with page.expect_download() as info:
        page.click("#pdf")
    pdf = tmp_path / "statement.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().rstrip().endswith(b"%%EOF")  # the blob's padding stays out
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 1
    assert "-".join(re.findall(".{4}", arabic["statement_id"])) in reader.pages[0].extract_text()
    page.close()


def test_one_changed_key_character_shows_an_error(site: Site, browser: Any) -> None:
    link = site.links[0]["link"]
    last = link[-2]
    changed = link[:-2] + ("A" if last != "A" else "B") + link[-1]
    page = open_link(browser, changed)
    assert page.get_attribute("main", "data-state") == "error"
    assert "does not open this statement" in page.inner_text("#message")
    assert page.inner_text("#statement").strip() == ""
    assert page.is_hidden("#download")
    page.close()


@pytest.mark.parametrize(("fragment", "words"), [
    ("", "Open the whole link"),
    ("{sid}.{key_cut}", "incomplete or damaged"),
    ("0000000000000000.{key}", "no statement for this link"),
])
def test_incomplete_or_unknown_links_say_what_to_do(site: Site, browser: Any, fragment: str,
                                                    words: str) -> None:
    sid, key = site.links[0]["link"].split("#")[1].split(".")
    url = f"{site.base}/statement#" + fragment.format(sid=sid, key=key, key_cut=key[:20])
    page = open_link(browser, url.rstrip("#"))
    assert page.get_attribute("main", "data-state") == "error"
    assert words in page.inner_text("#message")
    page.close()


@pytest.mark.parametrize("make", [
    lambda sid, key: f"{sid}.{key[:-3]}%E0%A4%A",  # a broken %-escape
    lambda sid, key: f"{sid}.{key[:20]}!*{key[22:]}",  # not base64url
    lambda sid, key: f"{sid}.{key}AA",  # a key of the wrong length
    lambda sid, key: f"{sid}.{key[:-1]}9",  # unused bits of the last character set
    lambda sid, key: f"{sid[:-1]}I.{key}",  # not a statement id
    lambda sid, key: f"{sid}{key}",  # no dot
    lambda sid, key: f"{sid}.{key[:-2]}{'B' if key[-2] == 'A' else 'A'}{key[-1]}",  # no decrypt
], ids=["escape", "base64", "length", "bits", "id", "dot", "decrypt"])
def test_every_hostile_fragment_shows_the_damaged_link_message(site: Site, browser: Any,
                                                               make: Any) -> None:
    link = site.links[0]
    sid, key = link["link"].split("#")[1].split(".")
    errors: list[str] = []
    page = browser.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site.base}/statement#{make(sid, key)}")
    page.wait_for_selector("main[data-state]")
    if page.get_attribute("main", "data-state") == "ready":  # well-formed: fails on opening
        page.click("#open")
        page.wait_for_selector("main[data-state=error], main[data-state=open]")
    assert page.get_attribute("main", "data-state") == "error"
    assert "damaged" in page.inner_text("#message")
    assert page.get_attribute("#message", "role") == "alert"
    assert page.inner_text("#statement").strip() == "" and page.is_hidden("#download")
    assert link["name"] not in page.inner_text("body")
    assert "#" not in page.url and errors == []  # the key left the bar; nothing went uncaught
    page.close()


def test_a_blob_that_opens_to_no_statement_shows_the_damaged_link_message(
        site: Site, browser: Any) -> None:
    """Encrypted under the right key and id, but not a statement container: still a message."""
    from results_online import crypto
    from results_online.ids import content_key

    secret = (site.out.parent / "keys" / "statement-secret").read_bytes()
    link = site.links[3]
    blob = site.out / "site" / "s" / f"{link['statement_id']}.bin"
    saved = blob.read_bytes()
    key = content_key(secret, link["statement_id"])
    try:
        for plaintext in (b"\xff\xff\xff\xff<p>", b"\x00\x00\x00\x02\xc3(%PDF", b"\x00"):
            blob.write_bytes(crypto.seal(key, link["statement_id"].encode(), plaintext))
            page = open_link(browser, link["link"])
            assert page.get_attribute("main", "data-state") == "error"
            assert "damaged" in page.inner_text("#message")
            assert page.inner_text("#statement").strip() == ""
            page.close()
    finally:
        blob.write_bytes(saved)


def test_after_the_available_until_date_a_link_says_so(site: Site, browser: Any) -> None:
    gone = site.links[0]["link"].replace(site.links[0]["statement_id"], "0000000000000000")
    page = open_link(browser, gone, today="2027-06-02T12:00:00Z")
    assert "available on this site until 1 June 2027" in page.inner_text("#message")
    page.close()


def test_a_blob_moved_to_another_id_does_not_open_in_the_browser(site: Site,
                                                                 browser: Any) -> None:
    a, b = site.links[0], site.links[1]
    blobs = site.out / "site" / "s"
    saved = (blobs / f"{b['statement_id']}.bin").read_bytes()
    shutil.copy(blobs / f"{a['statement_id']}.bin", blobs / f"{b['statement_id']}.bin")
    try:
        page = open_link(browser, b["link"])
        assert page.get_attribute("main", "data-state") == "error"
        assert a["name"] not in page.inner_text("body")
        page.close()
    finally:
        (blobs / f"{b['statement_id']}.bin").write_bytes(saved)


def test_the_verify_page_accepts_the_real_qr_and_rejects_a_changed_digit(
        site: Site, browser: Any) -> None:
    link = site.links[2]
    qr = read_qr(site.out / site.statement_of(link)["pdf"]).text
    assert qr.startswith(site.base + "/q#")
    page = browser.new_page()
    page.goto(qr)
    page.wait_for_selector("#verdict[data-valid]")
    assert page.get_attribute("#verdict", "data-valid") == "true"
    shown = page.inner_text("#statement")
    assert link["name"] in shown
    entry = site.statement_of(link)
    series = date.fromisoformat(entry["series"] + "-01")
    issued = date.fromisoformat(entry["issue_date"])
    assert f"{series:%B} {series.year}" in shown  # e.g. "June 2026", from the token
    assert f"{issued.day} {issued:%B} {issued.year}" in shown
    page.wait_for_selector("#status[data-status]")
    assert page.get_attribute("#status", "data-status") == "valid"  # from the status list

    digits = qr.split("#")[1]
    i = len(digits) // 2
    changed = digits[:i] + str((int(digits[i]) + 1) % 10) + digits[i + 1:]
    page.goto(f"{site.base}/q#{changed}")
    page.wait_for_selector("#verdict[data-valid]")
    assert page.get_attribute("#verdict", "data-valid") == "false"
    assert page.is_hidden("#statement")
    page.close()


def test_the_verify_page_refuses_the_real_token_on_any_path_but_q(site: Site, browser: Any) -> None:
    qr = read_qr(site.out / site.statement_of(site.links[2])["pdf"]).text
    digits = qr.split("#")[1]
    page = browser.new_page()
    for url in (f"{site.base}/q/#{digits}", f"{site.base}/q/index.html#{digits}",
                f"{site.base}/q?from=scan#{digits}"):
        page.goto(url)
        page.wait_for_selector("#verdict[data-valid]")
        assert page.get_attribute("#verdict", "data-valid") == "false", url
        assert page.is_hidden("#statement")
    page.goto(qr)  # the same tab still accepts the real QR text
    page.wait_for_selector("#verdict[data-valid]")
    assert page.get_attribute("#verdict", "data-valid") == "true"
    page.close()


def test_the_verify_page_says_it_could_not_check_when_the_keys_do_not_load(
        site: Site, browser: Any) -> None:
    """A network failure is not a forgery: the page must not call a genuine QR NOT VALID."""
    qr = read_qr(site.out / site.statement_of(site.links[2])["pdf"]).text
    page = browser.new_page()
    page.route("**/.well-known/results-keys.json", lambda route: route.abort())
    page.goto(qr)
    page.wait_for_selector("#verdict[data-valid]")
    assert page.get_attribute("#verdict", "data-valid") == "unknown"
    assert "could not run" in page.inner_text("#verdict")
    assert "NOT VALID" not in page.inner_text("#verdict") and page.is_hidden("#statement")
    page.close()


def test_the_converter_answers_as_you_type(site: Site, browser: Any) -> None:
    page = browser.new_page()
    page.goto(site.base + "/converter/")
    page.select_option("#exam", "FCE")
    page.fill("#score", "70")
    assert "is 169 on the Cambridge English Scale" in page.inner_text("#answer")
    page.fill("#score", "12")
    assert "from 45 to 100" in page.inner_text("#answer")
    page.close()


def test_a_superseded_statements_old_link_points_to_the_new_one(browser: Any,
                                                                 tmp_path: Path) -> None:
    with served_example(tmp_path) as site:
        old = site.links[0]
        # A results enquiry swaps two skill scores: the overall result stays, the
        # statement changes, so the candidate gets a new statement and link.
        results = read_rows(tmp_path / "series" / "results.csv")
        mine = [r for r in results if r["candidate_id"] == old["candidate_id"]
                and r["test"] == old["test"] and r["component"] != "overall"]
        a, b = next((x, y) for x in mine for y in mine if x["mark"] != y["mark"])
        a["mark"], b["mark"] = b["mark"], a["mark"]
        write_rows(tmp_path / "series" / "results.csv", results)
        build_example(tmp_path / "series", tmp_path / "keys", site.out,
                      now="2026-09-10T09:00:00+00:00")
        new = next(r for r in read_rows(site.out / "private" / "links.csv")
                   if r["candidate_id"] == old["candidate_id"] and r["test"] == old["test"])
        assert new["link"] != old["link"]

        page = open_link(browser, old["link"])
        assert page.get_attribute("main", "data-status") == "superseded"
        assert "replaced this one on 10 September 2026" in page.inner_text("#message")
        page.close()
        page = open_link(browser, new["link"])
        assert page.get_attribute("main", "data-state") == "open"
        assert old["name"] in page.inner_text("#statement")
        page.close()
