"""Every user in Debian's chromium: employers read a QR check like a statement, candidates
open their statement on request, centres see enquiry links until the deadline, and every
page of the site, the app and the overview passes axe-core, reflows at 320 px and follows
the browser's font size."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import sealed, step_series
from localhost import free_port, results_server
from test_browser import Site, open_link, served_example
from test_qr import read_qr

from results_online.build.bundle.overview import overview_html
from results_online.build.grading.enquiry import enquiry_deadline_of

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # from npm (package.json)
NARROW = {"width": 320, "height": 640}
ENQUIRY = "https://board.example.org/enquiry-form"
APPEAL = "https://board.example.org/appeal-form"


@dataclass(frozen=True)
class Live:
    site: Site
    app: str  # the verification app's base URL, over the same build's index


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("ux")
    with served_example(tmp) as site:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        args = ["verify-app", "--index", str(site.out / "private" / "verify.sqlite"),
                "--keyset", str(tmp / "keys"), "--port", str(port)]
        with results_server(args, base + "/healthz", stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL):
            yield Live(site, base)



def _qr_of(site: Site, index: int) -> tuple[str, dict[str, str]]:
    link = site.links[index]
    return read_qr(site.out / site.statement_of(link)["pdf"]).text, link


def _test_of(site: Site, link: dict[str, str]) -> tuple[str, list[str]]:
    """The test's name and its skills' titles, as series.toml and the rules give them."""
    from results_online.build.inputs.load import load_series

    series = load_series(site.out.parent / "series")
    test = next(t for t in series.tests if t.code == link["test"])
    return test.name, [c.title for c in test.components]


def test_the_qr_page_reads_like_the_statement(live: Live, browser: Any) -> None:
    site = live.site
    qr, link = _qr_of(site, 3)
    name, skills = _test_of(site, link)
    for base in (site.base, live.app):  # the static site's /q/ and the app's /q
        page = browser.new_page()
        page.goto(base + "/q#" + qr.split("#", 1)[1])
        page.wait_for_selector("#verdict[data-valid=true]")
        page.wait_for_selector("#status[data-status]")
        page.wait_for_function("document.getElementById('catalogue-note').hidden")
        shown = page.inner_text("#statement")
        assert "Cambridge University Press & Assessment" in shown
        assert name in shown
        for title in skills:
            assert title in shown, title
        assert link["name"] in shown
        assert "Grade" in shown or "Level" in shown or "No grade" in shown  # overall in words
        assert "proves the result, not the person" in shown
        assert "photo identification" in shown
        if base == live.app:  # the app knows the centre; the static status list does not
            number = site.statement_of(link)["centre"]
            assert number in page.inner_text("#centre")
        page.close()


def test_with_the_catalogue_blocked_the_qr_page_still_verifies(live: Live, browser: Any) -> None:
    site = live.site
    qr, link = _qr_of(site, 3)
    _, skills = _test_of(site, link)
    page = browser.new_page()
    page.route("**/catalogue/**", lambda route: route.abort())
    page.goto(qr)
    page.wait_for_selector("#verdict[data-valid=true]")
    page.wait_for_selector("#catalogue-note:not([hidden])")
    shown = page.inner_text("#statement")
    assert link["name"] in shown and link["test"] in shown  # the codes the QR carries
    assert not any(title in shown for title in skills if len(title) > 1)
    page.close()


def test_a_secure_link_decrypts_nothing_until_asked(live: Live, browser: Any) -> None:
    site = live.site
    link = site.links[0]
    page = browser.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(link["link"])
    page.wait_for_selector("main[data-state=ready]")
    time.sleep(0.3)  # anything a load would start has started
    assert not any("/s/" in url for url in fetched)  # a link scanner fetches no statement
    assert page.inner_text("#statement").strip() == ""
    assert page.evaluate("document.activeElement.id") == "open"  # the first focus
    assert "#" not in page.url
    page.keyboard.press("Enter")
    page.wait_for_selector("main[data-state=open]")
    assert link["name"] in page.inner_text("#statement")
    assert any("/s/" in url for url in fetched)
    page.close()


def test_on_a_small_screen_the_pdf_sits_by_the_heading(live: Live, browser: Any) -> None:
    page = browser.new_page(viewport=NARROW)
    page.goto(live.site.links[0]["link"])
    page.click("#open")
    page.wait_for_selector("main[data-state=open]")
    heading = page.locator("#page-title").bounding_box()
    pdf = page.locator("#pdf").bounding_box()
    assert heading is not None and pdf is not None
    assert pdf["y"] - (heading["y"] + heading["height"]) < 100  # not 1,900 px below
    page.close()


def test_the_statement_page_says_how_and_by_when_to_ask_for_an_enquiry(
        live: Live, browser: Any) -> None:
    page = open_link(browser, live.site.links[0]["link"])
    text = page.inner_text("#statement")
    assert "results enquiry by" in text and "through your centre" in text
    assert re.search(r"\d{1,2} August 2026", text)
    assert live.site.links[0]["candidate_id"] in text  # the ID beside the candidate number
    page.close()


def test_text_size_control_is_remembered_on_this_device(live: Live, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(live.site.base + "/help/")
    before = _px(page, "main p")
    page.click("button[data-text-size='1']")
    page.click("button[data-text-size='1']")
    larger = _px(page, "main p")
    assert larger > before * 1.2
    page.goto(live.site.base + "/privacy/")
    assert _px(page, "main p") == pytest.approx(larger)  # remembered across pages
    page.goto(live.app + "/")  # another origin: its own setting
    page.click("button[data-text-size='-1']")
    assert _px(page, "main p") < before
    context.close()


def _px(page: Any, selector: str) -> float:
    return float(page.eval_on_selector(selector,
                                       "e => parseFloat(getComputedStyle(e).fontSize)"))


def _overview(tmp: Path, now: datetime) -> tuple[Path, Any]:
    series = step_series(per_centre=2, n_centres=1)
    test = replace(series.tests[0], enquiry_url=ENQUIRY, appeal_url=APPEAL)
    entries = tuple(replace(e, test=test) for e in series.entries)
    series = replace(series, tests=(test,), entries=entries)
    statements = sealed(series, tmp / f"keys-{now:%Y%m%d}")
    html = overview_html(series, series.centres[0], statements, now=now)
    path = tmp / f"overview-{now:%Y%m%d}.html"
    path.write_text(html, encoding="utf-8")
    return path, enquiry_deadline_of(series.info, test)


def test_the_enquiry_link_is_there_until_the_deadline_and_gone_after(
        tmp_path: Path, browser: Any) -> None:
    released = datetime(2026, 8, 19, 12, tzinfo=UTC)  # the factories' centres' release day
    path, deadline = _overview(tmp_path, released)
    enquiry = f"a[href='{ENQUIRY}']"
    before = browser.new_page()
    before.clock.set_fixed_time(datetime(deadline.year, deadline.month, deadline.day, 20,
                                         tzinfo=UTC))  # the deadline day itself
    before.goto(path.as_uri())
    assert before.locator(enquiry).count() == 1
    assert before.locator(f"a[href='{APPEAL}']").count() == 1
    before.close()
    after = browser.new_page()  # the same file, opened the day after the deadline
    after.clock.set_fixed_time(datetime(deadline.year, deadline.month, deadline.day + 1, 9,
                                        tzinfo=UTC))
    after.goto(path.as_uri())
    assert after.locator(enquiry).count() == 0
    assert after.locator(".deadline .passed").first.is_visible()
    after.close()
    late, _ = _overview(tmp_path, datetime(2026, 12, 1, tzinfo=UTC))  # built after it
    assert ENQUIRY not in late.read_text(encoding="utf-8")



def test_the_overview_lists_forthcoming_results(tmp_path: Path, browser: Any) -> None:
    from results_online.model import Status

    series = step_series(per_centre=3, n_centres=1)
    pending = [e for e in series.entries if any(r.status is Status.PENDING for r in e.components)]
    assert pending, "the factories' STEP series has a pending result"
    statements = sealed(series, tmp_path / "keys")
    page = browser.new_page()
    for shown, expect in ((statements, pending), (
            [s for s in statements if s.entry not in pending], [])):
        path = tmp_path / "overview.html"
        path.write_text(overview_html(series, series.centres[0], shown,
                                      now=datetime(2026, 8, 19, 12, tzinfo=UTC)), "utf-8")
        page.goto(path.as_uri())
        section = page.inner_text("section[aria-labelledby=forthcoming-h]")
        for e in expect:
            title = next(r.component.title for r in e.components if r.status is Status.PENDING)
            assert e.candidate.name in section and title in section
        if not expect:
            assert "There are currently no forthcoming results for your centre" in section
    page.close()


def _pages(live: Live) -> list[tuple[str, str | None]]:
    """Every page: (url, what to do first). The site's pages are all its index.html files."""
    site = live.site
    qr, _ = _qr_of(site, 3)
    digits = qr.split("#", 1)[1]
    pages: list[tuple[str, str | None]] = []
    for index in sorted((site.out / "site").rglob("index.html")):
        rel = index.parent.relative_to(site.out / "site").as_posix()
        path = "/" if rel == "." else f"/{rel}/"
        if path == "/statement/":
            pages.append((site.links[0]["link"], "open"))
        elif path == "/q/":
            pages.append((f"{site.base}/q#{digits}", "verdict"))  # the QR's exact path
        else:
            pages.append((site.base + path, None))
    pages += [(live.app + "/", None), (live.app + "/help", None),
              (f"{live.app}/q#{digits}", "verdict"), (live.app + "/", "fail"),
              (live.app + "/", "match")]
    pages += [(live.app + path, None) for path in ("/orgs", "/orgs/register", "/orgs/confirm",
                                                    "/orgs/bulk")]
    return pages


def _prepare(page: Any, live: Live, url: str, step: str | None) -> None:
    page.goto(url)
    if step == "open":
        page.click("#open")
        page.wait_for_selector("main[data-state=open]")
    elif step == "verdict":
        page.wait_for_selector("#verdict[data-valid=true]")
        page.wait_for_selector("#status[data-status]")
    elif step in ("fail", "match"):
        link = live.site.links[0]
        secret = next(c for c in _candidates(live) if c["candidate_id"] == link["candidate_id"])
        page.fill("#candidate_id", link["candidate_id"].lower())
        if step == "match":
            page.fill("#secret_number", secret["secret_number"])
        else:  # a wrong share code: it counts per address only, so pages checked again and
            # again never use up the ID's small secret-number budget (4-digit secrets)
            page.fill("#share_code", "0000-0000-0000-0000-0000")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if step == "match":
            assert link["name"] in page.inner_text("main")
        else:
            assert "No result matches" in page.inner_text("main")
            assert page.input_value("#candidate_id") == link["candidate_id"].lower()


def _candidates(live: Live) -> list[dict[str, str]]:
    from release_support import read_rows

    return read_rows(live.site.out.parent / "series" / "candidates.csv")


def _axe(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, { resultTypes: ["violations"] });
        return r.violations.map(v => `${v.id} (${v.impact}): ${v.help} at ` +
            v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
    }""")
    return [str(v) for v in found]


def test_every_page_passes_axe_and_reflows_at_320_px(live: Live, browser: Any,
                                                     tmp_path: Path) -> None:
    assert AXE.is_file(), "npm ci installs axe-core (package.json)"
    overview, _ = _overview(tmp_path, datetime(2026, 8, 19, 12, tzinfo=UTC))
    pages = [*_pages(live), (overview.as_uri(), None)]
    assert len(pages) >= 15
    problems: dict[str, list[str]] = {}
    for width in (1280, NARROW["width"]):
        # axe is injected by the test, so the page's own CSP is bypassed for it only.
        context = browser.new_context(bypass_csp=True,
                                      viewport={"width": width, "height": 800})
        for url, step in pages:
            page = context.new_page()
            _prepare(page, live, url, step)
            found = _axe(page)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                found.append(f"scrolls horizontally: {scroll} px wide at {width} px")
            if found:
                problems[f"{url.split('#')[0]} [{step}] at {width}px"] = found
            page.close()
        context.close()
    report = "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert not problems, report


def test_doubling_the_browsers_font_size_doubles_body_text(live: Live, browser: Any,
                                                          tmp_path: Path) -> None:
    overview, _ = _overview(tmp_path, datetime(2026, 8, 19, 12, tzinfo=UTC))
    pages = [*_pages(live), (overview.as_uri(), None)]
    sizes: dict[int, list[float]] = {}
    for standard in (16, 32):
        context = browser.new_context()
        sizes[standard] = []
        for url, step in pages:
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Page.setFontSizes", {"fontSizes": {"standard": standard, "fixed": 13}})
            _prepare(page, live, url, step)
            sizes[standard].append(_px(page, "main p, main li, main td"))
            page.close()
        context.close()
    for (url, _), small, big in zip(pages, sizes[16], sizes[32], strict=True):
        assert big == pytest.approx(2 * small), url
        assert small >= 15, url  # body text is not smaller than the browser's default


def test_a_focused_heading_has_no_box_and_keyboard_focus_always_shows(
        live: Live, browser: Any) -> None:
    page = open_link(browser, live.site.links[0]["link"])
    assert page.evaluate("document.activeElement.id") == "page-title"  # moved there on open
    assert page.eval_on_selector("#page-title", "e => getComputedStyle(e).outlineStyle") == "none"
    for _ in range(6):  # each control the keyboard reaches shows where it is
        page.keyboard.press("Tab")
        style = page.evaluate("""() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return [e.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
        assert style[1] != "none" and style[2] >= 2, style
    page.close()
