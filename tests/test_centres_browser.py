"""Centres in Debian's chromium: open the bundle in the page, enrol, remember and forget.

The STEP example is built with a real age identity for centre 00871 (beside the
key it already lists), served by `results serve`, and opened on /centres/open by
choosing the identity file, as an exams officer would.
"""

from __future__ import annotations

import email
import io
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pyrage
import pytest
from factories import EXAMPLES
from localhost import free_port, results_server
from release_support import read_rows, write_rows
from test_browser import build_example

from results_online.build.grading.enquiry import appeal_deadline, bank_holidays
from results_online.keys.store import init_keys
from results_online.wording import weekday_date

pytestmark = pytest.mark.browser
EXAMPLE = EXAMPLES / "step-2026-06"
CENTRE = "00871"
SERIES = "2026-06"
AFTER_RELEASE = "2026-08-20T12:00:00Z"


@dataclass
class Served:
    base: str
    root: Path
    identity: Path  # a real identity of CENTRE, age-keygen's format
    other: Path  # an identity no centre lists

    @property
    def series(self) -> Path:
        return self.root / "series"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def bundle(self) -> Path:
        return self.out / "site" / "c" / CENTRE / f"{SERIES}.zip.age"

    def rebuild(self) -> None:
        build_example(self.series, self.root / "keys", self.out)

    def zip_files(self, identity: Path) -> dict[str, bytes]:
        """The bundle's files, decrypted by Debian's age with ``identity``."""
        done = subprocess.run(["age", "-d", "-i", str(identity), str(self.bundle)],
                              capture_output=True, check=True, timeout=60)
        with zipfile.ZipFile(io.BytesIO(done.stdout)) as zf:
            return {n: zf.read(n) for n in zf.namelist()}


def identity_file(path: Path) -> pyrage.x25519.Identity:
    identity = pyrage.x25519.Identity.generate()
    path.write_text(f"# created: 2026-08-01T09:00:00Z\n# public key: {identity.to_public()}\n"
                    f"{identity}\n", encoding="utf-8")
    return identity


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("centres")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    shutil.copytree(EXAMPLE, root / "series")
    toml = (root / "series" / "series.toml").read_text(encoding="utf-8")
    toml = re.sub(r"(?m)^(site_url|verify_url)\s*=.*$", rf'\1 = "{base}"', toml)
    (root / "series" / "series.toml").write_text(toml, encoding="utf-8")
    mine = identity_file(root / "officer.txt")
    identity_file(root / "stranger.txt")
    centres = read_rows(root / "series" / "centres.csv")
    row = next(r for r in centres if r["centre_number"] == CENTRE)
    row["recipients"] += f" {mine.to_public()}"
    write_rows(root / "series" / "centres.csv", centres)
    init_keys(root / "keys", date(2026, 1, 1))
    s = Served(base, root, root / "officer.txt", root / "stranger.txt")
    s.rebuild()
    with results_server(["serve", str(s.out), "--port", str(port)], base + "/"):
        yield s



@dataclass
class Officer:
    """A page on /centres/open and every request it made."""

    page: Any
    requests: list[Any]

    def open_with(self, identity: Path, *, remember: bool = False) -> str:
        self.page.set_input_files("#identity", str(identity))
        if remember:
            self.page.check("#remember")
        self.page.click("#open")
        self.page.wait_for_selector("main[data-state=open], main[data-state=error]")
        return str(self.page.get_attribute("main", "data-state"))

    def download(self, selector: str, folder: Path) -> bytes:
        with self.page.expect_download() as info:
            self.page.click(selector)
        path = folder / info.value.suggested_filename
        info.value.save_as(path)
        return path.read_bytes()


def emailed_link(served: Served) -> str:
    """The open page's link in the centre's e-mail (the plain-text part)."""
    mail = email.message_from_bytes(
        (served.out / "private" / "outbox" / f"centre-{CENTRE}.eml").read_bytes(),
        policy=policy.default)
    assert isinstance(mail, EmailMessage)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return next(w for w in body.get_content().split() if "/centres/open" in w)


def officer(context: Any, served: Served, *, centre: str = CENTRE,
            today: str = AFTER_RELEASE, url: str = "") -> Officer:
    page = context.new_page()
    page.clock.set_fixed_time(today)
    requests: list[Any] = []

    def record(request: Any) -> None:  # Playwright cannot wrap a bound builtin method
        requests.append(request)

    page.on("request", record)
    page.goto(url or f"{served.base}/centres/open/?centre={centre}")
    page.wait_for_selector("main[data-state=ready]")
    return Officer(page, requests)


def stored_databases(page: Any) -> list[str]:
    return list(page.evaluate("async () => (await indexedDB.databases()).map(d => d.name)"))


def test_an_officer_opens_the_bundle_and_downloads_byte_identical_files(
        served: Served, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True)
    o = officer(context, served, url=emailed_link(served))
    assert o.page.input_value("#centre") == CENTRE  # from the e-mail's link
    assert o.open_with(served.identity) == "open"
    files = served.zip_files(served.identity)
    overview = o.page.inner_text("#bundle")
    assert "Results Overview" in overview and "Ατλαντίς International School" in overview
    rows = [r for r in read_rows(served.series / "candidates.csv")
            if r["centre_number"] == CENTRE]
    for r in rows:
        assert r["name"] in overview
    assert o.download("#bundle a[href^='blob:'][download$='results.csv']",
                      tmp_path) == files["results.csv"]
    assert o.download("#bundle a[download$='results.xlsx']", tmp_path) == files["results.xlsx"]
    assert o.download("#bundle a[download$='statements.pdf']",
                      tmp_path) == files["statements.pdf"]
    assert o.download("#bundle a[download$='explanation-of-results.pdf']",
                      tmp_path) == files["explanation-of-results.pdf"]
    first = sorted(n for n in files if n.startswith("statements/"))[0]
    number = first.removeprefix("statements/").split("-")[0]
    link = o.page.locator("#candidates tbody tr", has_text=number).locator("a", has_text="PDF")
    with o.page.expect_download() as info:
        link.click()
    pdf = tmp_path / "candidate.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes() == files[first]
    # ... and to the statement the build rendered (the manifest says where).
    manifest = json.loads((served.out / "private" / "manifest.json").read_text("utf-8"))
    entry = next(m for m in manifest["statements"]
                 if m["centre"] == CENTRE and m["candidate_number"] == number)
    assert pdf.read_bytes() == (served.out / entry["pdf"]).read_bytes()
    assert o.download("#zip", tmp_path) == subprocess.run(
        ["age", "-d", "-i", str(served.identity), str(served.bundle)],
        capture_output=True, check=True).stdout
    # The identity never left the page, and nothing was stored.
    secret = served.identity.read_text().split("\n")[2]
    for request in o.requests:
        assert request.method == "GET"
        carried = request.url + (request.post_data or "") + str(request.headers)
        assert secret not in carried and secret.lower() not in carried.lower()
    assert {r.url.removeprefix(served.base) for r in o.requests} >= {
        f"/c/{CENTRE}/{SERIES}.zip.age"}
    assert stored_databases(o.page) == []
    assert o.page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert context.cookies() == []
    context.close()


def test_a_candidates_results_show_in_the_page(served: Served, browser: Any) -> None:
    context = browser.new_context()
    o = officer(context, served)
    assert o.open_with(served.identity) == "open"
    row = o.page.locator("#candidates tbody tr").first
    name = row.locator("td").first.inner_text()
    row.locator("a").first.click()
    view = o.page.locator(".candidate-view:target")
    assert name in view.inner_text()
    assert o.page.is_hidden("#overview")
    o.page.click(".candidate-view:target >> text=Return to Results Overview")
    assert o.page.is_visible("#overview")
    o.page.fill("#filter", name)
    assert "1 of" in o.page.inner_text("#count")  # the overview's own script runs here
    # Its appeal calculator words the date from the bundle's own words (wording.py).
    o.page.fill("#outcome", "2026-08-28")  # a Friday; Monday 31 August is a bank holiday
    closed = bank_holidays([2026])
    assert o.page.inner_text("#appeal-deadline") == (
        f"Submit the appeal by {weekday_date(appeal_deadline(date(2026, 8, 28), closed))}.")
    context.close()


def test_an_identity_file_dropped_on_the_page_opens_it(served: Served, browser: Any) -> None:
    context = browser.new_context()
    o = officer(context, served)
    drop = o.page.evaluate_handle(
        """text => { const d = new DataTransfer();
                     d.items.add(new File([text], "officer.txt", {type: "text/plain"}));
                     return d; }""", served.identity.read_text())
    o.page.dispatch_event("#drop", "drop", {"dataTransfer": drop})
    o.page.wait_for_selector("main[data-state=open]")
    assert "Ατλαντίς International School" in o.page.inner_text("#bundle")
    context.close()


@pytest.mark.parametrize(("case", "error", "words"), [
    ("stranger", "wrong-identity", "does not open your centre's bundle"),
    ("public key", "no-identity", "holds a public key"),
    ("passphrase-protected", "no-identity", "is itself encrypted"),
    ("a large file", "no-identity", "too large to be an age identity"),
    ("unknown centre", "not-found", "no results bundle for centre 99999"),
    ("before release", "not-released", "not released yet"),
    ("after available_until", "gone", "available on this site until 1 June 2027"),
])
def test_problems_get_a_clear_message(served: Served, browser: Any, tmp_path: Path, case: str,
                                      error: str, words: str) -> None:
    identity = served.identity
    kwargs: dict[str, str] = {}
    if case == "stranger":
        identity = served.other
    elif case == "public key":
        identity = tmp_path / "public.txt"
        identity.write_text(served.identity.read_text().split("public key: ")[1].split("\n")[0])
    elif case == "passphrase-protected":
        identity = tmp_path / "identity.age"
        identity.write_bytes(pyrage.passphrase.encrypt(served.identity.read_bytes(), "pass"))
    elif case == "a large file":
        identity = tmp_path / "results.zip.age"
        identity.write_bytes(served.bundle.read_bytes())
    elif case == "unknown centre":
        kwargs["centre"] = "99999"
    elif case == "before release":
        kwargs.update(centre="99999", today="2026-08-01T12:00:00Z")
    else:
        kwargs.update(centre="99999", today="2027-06-01T23:30:00Z")  # after midnight in London
    context = browser.new_context()
    o = officer(context, served, **kwargs)
    assert o.open_with(identity) == "error"
    assert o.page.get_attribute("main", "data-error") == error
    assert words in o.page.inner_text("#message")
    assert o.page.is_hidden("#opened")
    context.close()


@pytest.mark.parametrize("damage", ["a flipped bit", "cut short", "a changed header MAC"])
def test_a_damaged_bundle_says_so(served: Served, browser: Any, damage: str) -> None:
    saved = served.bundle.read_bytes()
    damaged = bytearray(saved)
    if damage == "a flipped bit":
        damaged[len(damaged) // 2] ^= 0x01
    elif damage == "cut short":
        del damaged[len(damaged) * 2 // 3:]
    else:
        mac = saved.index(b"\n--- ") + 5
        damaged[mac + 2] = ord("A") if damaged[mac + 2] != ord("A") else ord("B")
    served.bundle.write_bytes(bytes(damaged))
    try:
        context = browser.new_context()
        o = officer(context, served)
        assert o.open_with(served.identity) == "error"
        assert o.page.get_attribute("main", "data-error") == "damaged"
        assert "damaged" in o.page.inner_text("#message")
        assert o.page.inner_text("#bundle").strip() == ""
        context.close()
    finally:
        served.bundle.write_bytes(saved)


READ_REMEMBERED = """async () => {
  const db = await new Promise((ok) => {
    const q = indexedDB.open("results-online-centres");
    q.onsuccess = () => ok(q.result);
  });
  const record = await new Promise((ok) => {
    const q = db.transaction("identity").objectStore("identity").get("remembered");
    q.onsuccess = () => ok(q.result);
  });
  db.close();
  return {text: JSON.stringify(record),
          keys: record.keys.map((k) => [k instanceof CryptoKey, k.extractable, k.algorithm.name])};
}"""


def test_remember_on_this_device_then_forget(served: Served, browser: Any) -> None:
    context = browser.new_context()
    o = officer(context, served)
    assert o.page.is_hidden("#remembered")
    assert o.open_with(served.identity, remember=True) == "open"
    assert stored_databases(o.page) == ["results-online-centres"]
    stored = o.page.evaluate(READ_REMEMBERED)
    assert "AGE-SECRET-KEY" not in stored["text"].upper()
    assert stored["keys"] == [[True, False, "X25519"]]  # a key no script can read out
    o.page.close()

    again = officer(context, served)  # the same browser profile, a new visit
    again.page.wait_for_selector("#remembered:not([hidden])")
    public = served.identity.read_text().split("public key: ")[1].split("\n")[0]
    assert again.page.inner_text("#remembered-key") == public
    again.page.click("#use-remembered")
    again.page.wait_for_selector("main[data-state=open]")
    again.page.click("#close")
    again.page.click("#forget")
    again.page.wait_for_selector("#remembered[hidden]", state="attached")
    assert "forgotten" in again.page.inner_text("#message")
    assert stored_databases(again.page) == []
    again.page.close()

    last = officer(context, served)
    time.sleep(0.3)  # the page looks for a remembered identity as it starts
    assert last.page.is_hidden("#remembered")
    context.close()


def test_an_identity_made_on_the_enrol_page_opens_the_next_bundle(
        served: Served, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{served.base}/centres/enrol/")
    page.fill("#centre", CENTRE)
    page.click("#make")
    page.wait_for_selector("main[data-state=made]")
    recipient = page.input_value("#recipient")
    assert recipient.startswith("age1") and not recipient.startswith("age1pq")
    with page.expect_download() as info:
        page.click("#identity-file")
    made = tmp_path / info.value.suggested_filename
    info.value.save_as(made)
    assert made.name == f"results-identity-{CENTRE}.txt"
    assert f"# public key: {recipient}" in made.read_text()
    page.close()

    # Before the board takes it in, it does not open the bundle.
    o = officer(context, served)
    assert o.open_with(made) == "error"
    o.page.close()

    done = subprocess.run([sys.executable, "-m", "results_online.commands", "centres",
                           "add-recipient", CENTRE, recipient, "--series", str(served.series)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    served.rebuild()
    o = officer(context, served)
    assert o.open_with(made) == "open"
    assert "Results Overview" in o.page.inner_text("#bundle")
    # Debian's age reads the browser-made identity file too, and the first officer's still works.
    assert "results.csv" in served.zip_files(made)
    assert served.zip_files(made) == served.zip_files(served.identity)
    context.close()
