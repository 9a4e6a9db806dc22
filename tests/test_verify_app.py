"""The verification app: matches, the uniform failure, limits, proxies, headers, start-up."""

from __future__ import annotations

import json
import logging
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from verify_support import (
    VerifyFixture,
    credentials,
    make_fixture,
    post_from,
    wrong,
)

from results_online import crypto
from results_online.config import app_config, app_config_from_env
from results_online.errors import ConfigError
from results_online.verify_app.app import create_app
from results_online.verify_app.throttle import client_address, trusted_networks
from results_online.wording import wording_catalogue

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> VerifyFixture:
    return make_fixture(tmp_path_factory.mktemp("verify"))


@pytest.fixture(autouse=True)
def _capture_all_logs(caplog: pytest.LogCaptureFixture, fx: VerifyFixture):
    """Every test: nothing logged carries a candidate ID, a secret number or a token."""
    caplog.set_level(logging.DEBUG)
    yield
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for value in fx.ids_and_secrets():
        assert value not in text
    for s in fx.statements:
        assert s.qr_text.split("#")[1] not in text


def _fce(fx: VerifyFixture):
    return next(s for s in fx.statements if s.entry.overall is not None)


def test_right_id_and_secret_return_the_actual_result(fx: VerifyFixture) -> None:
    s = _fce(fx)
    with TestClient(fx.app()) as client:
        r = client.post("/api/verify", json=credentials(s))
    assert r.status_code == 200
    body = r.json()
    assert body["match"] is True
    [shown] = body["statements"]
    e = s.entry
    assert shown["name"] == e.candidate.name
    assert shown["test"] == e.test.name and shown["series"] == s.series.name
    assert [(x["code"], x["mark"]) for x in shown["results"]] == [
        (c.component.code, c.mark) for c in e.components]
    assert shown["overall"]["score"] == e.overall.score
    assert shown["overall"]["cefr"] == e.overall.cefr
    assert shown["issue_date"] == s.issue_date.isoformat()
    assert shown["status"] == "valid" and shown["statement_id"] == s.statement_id
    assert r.headers["cache-control"] == "no-store"


def test_html_form_shows_the_result_and_never_echoes_the_secret(fx: VerifyFixture) -> None:
    s = next(s for s in fx.statements if s.entry.overall is None)
    c = s.entry.candidate
    with TestClient(fx.app()) as client:
        form = client.get("/")
        assert form.status_code == 200 and 'action="/verify"' in form.text
        r = client.post("/verify", data={"candidate_id": c.candidate_id,
                                         "secret_number": c.secret})
    assert r.status_code == 200
    assert c.name in r.text and s.entry.test.name in r.text
    for comp in s.entry.components:
        assert comp.component.code in r.text and str(comp.mark) in r.text
    assert c.secret not in r.text and "Valid" in r.text


def _failure_triple(fx: VerifyFixture, path: str, form: bool) -> list[tuple[int, bytes, dict]]:
    """Responses to a wrong secret, an unknown ID and a locked ID (locked with the right secret)."""
    target, victim = fx.statements[0], fx.statements[1]
    app = fx.app(failures_per_id=3)
    with TestClient(app) as client:
        def send(body: dict[str, str]):
            r = client.post(path, data=body) if form else client.post(path, json=body)
            headers = {k: v for k, v in r.headers.items() if k != "date"}
            content = r.content
            if form:  # the form gives back the ID as typed (the user's own input), only that
                typed = f'value="{body["candidate_id"]}"'.encode()
                assert content.count(typed) == 1
                content = content.replace(typed, b'value=""')
                headers.pop("content-length")
            return r.status_code, content, headers

        wrong_secret = send(credentials(target, wrong(target.entry.candidate.secret)))
        unknown = send({"candidate_id": "C9999999", "secret_number": "123456"})
        for _ in range(3):
            send(credentials(victim, wrong(victim.entry.candidate.secret)))
        locked = send(credentials(victim))
    return [wrong_secret, unknown, locked]


@pytest.mark.parametrize(("path", "form"), [("/api/verify", False), ("/verify", True)])
def test_wrong_secret_unknown_id_and_locked_id_are_byte_identical(
        fx: VerifyFixture, path: str, form: bool) -> None:
    a, b, c = _failure_triple(fx, path, form)
    assert a == b == c
    assert a[0] == 200 and b"No result matches" in a[1]


def test_eleventh_failure_is_refused_even_with_the_right_secret(fx: VerifyFixture) -> None:
    s, other = fx.statements[2], fx.statements[3]
    bad = credentials(s, wrong(s.entry.candidate.secret))
    with TestClient(fx.app()) as client:
        for _ in range(9):
            assert client.post("/api/verify", json=bad).json()["match"] is False
        # after 9 failures the right secret still works, and is not counted
        assert client.post("/api/verify", json=credentials(s)).json()["match"] is True
        assert client.post("/api/verify", json=bad).json()["match"] is False  # the 10th
        assert client.post("/api/verify", json=credentials(s)).json()["match"] is False
        # another candidate is not affected
        assert client.post("/api/verify", json=credentials(other)).json()["match"] is True


def test_failures_from_many_addresses_against_one_id_are_counted(fx: VerifyFixture) -> None:
    s = fx.statements[4]
    bad = credentials(s, wrong(s.entry.candidate.secret))
    calls = [(f"198.51.100.{i}", "/api/verify", bad) for i in range(1, 11)]
    calls.append(("203.0.113.7", "/api/verify", credentials(s)))
    responses = post_from(fx.app(), calls)
    assert all(r.json()["match"] is False for r in responses)


def test_failures_per_address_limit_other_ids_from_that_address(fx: VerifyFixture) -> None:
    s = fx.statements[5]
    app = fx.app(failures_per_address=3)
    calls = [("192.0.2.1", "/api/verify", {"candidate_id": f"X{i}", "secret_number": "1111"})
             for i in range(3)]
    calls += [("192.0.2.1", "/api/verify", credentials(s)),
              ("192.0.2.2", "/api/verify", credentials(s))]
    *_, same_address, other_address = post_from(app, calls)
    assert same_address.json()["match"] is False
    assert other_address.json()["match"] is True


def test_forwarded_header_ignored_unless_the_peer_is_a_trusted_proxy(fx: VerifyFixture) -> None:
    s = fx.statements[5]
    attempts = [("192.0.2.50", {"candidate_id": f"Y{i}", "secret_number": "2222"})
                for i in range(3)]

    def run(trusted: tuple[str, ...]) -> bool:
        app = fx.app(failures_per_address=3, trusted_proxies=trusted)
        # each failure claims another client address in X-Forwarded-For
        responses = [post_from(app, [(peer, "/api/verify", body)],
                               headers={"X-Forwarded-For": f"203.0.113.{i}"})[0]
                     for i, (peer, body) in enumerate(attempts)]
        assert all(r.json()["match"] is False for r in responses)
        final = post_from(app, [("192.0.2.50", "/api/verify", credentials(s))],
                          headers={"X-Forwarded-For": "203.0.113.99"})
        return bool(final[0].json()["match"])

    assert run(()) is False  # untrusted peer: all failures counted against the peer
    assert run(("192.0.2.50",)) is True  # trusted proxy: each client counted on its own


def test_client_address_takes_the_nearest_untrusted_hop() -> None:
    trusted = trusted_networks(["10.0.0.0/8"])
    scope = {"client": ("10.1.2.3", 1), "headers": [
        (b"x-forwarded-for", b"1.1.1.1, 203.0.113.5, 10.9.9.9")]}
    assert client_address(scope, trusted) == "203.0.113.5"
    assert client_address({**scope, "client": ("192.0.2.1", 1)}, trusted) == "192.0.2.1"
    assert client_address({"client": ("10.1.2.3", 1), "headers": [
        (b"x-forwarded-for", b"junk")]}, trusted) == "10.1.2.3"


def test_unknown_and_known_ids_do_the_same_work(fx: VerifyFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_hash, real_equal = crypto.keyed_hash, crypto.equal

    def counting_hash(secret: bytes, purpose: str, *parts: str) -> bytes:
        calls.append(f"hash:{purpose}")
        return real_hash(secret, purpose, *parts)

    def counting_equal(a: bytes, b: bytes) -> bool:
        calls.append("equal")
        return real_equal(a, b)

    app = fx.app(failures_per_id=2)
    monkeypatch.setattr(crypto, "keyed_hash", counting_hash)
    monkeypatch.setattr(crypto, "equal", counting_equal)
    s = fx.statements[0]
    traces = []
    with TestClient(app) as client:
        for body in (credentials(s, wrong(s.entry.candidate.secret)),
                     {"candidate_id": "Q0000000", "secret_number": "000000"},
                     credentials(s, wrong(s.entry.candidate.secret)),
                     credentials(s)):  # locked by now
            calls.clear()
            client.post("/api/verify", json=body)
            traces.append(list(calls))
    assert traces[0] == traces[1] == traces[2] == traces[3]
    assert "equal" in traces[0]


def test_status_answers_valid_and_unknown(fx: VerifyFixture) -> None:
    s = fx.statements[0]
    with TestClient(fx.app()) as client:
        r = client.post("/api/status", json={"statement_id": s.display_id.lower()})
        centre = {"number": s.centre.number, "name": s.centre.name}  # as printed on it
        assert r.json() == {"statement_id": s.statement_id, "status": "valid", "date": None,
                            "centre": centre}
        assert client.post("/api/status", json={"statement_id": "0" * 16}).status_code == 404
        assert client.post("/api/status", json={"statement_id": "not an id"}).status_code == 404
        assert client.get(f"/api/status/{s.statement_id}").status_code == 404


def test_security_headers_on_every_response(fx: VerifyFixture) -> None:
    with TestClient(fx.app(), raise_server_exceptions=False) as client:
        responses = [client.get("/"), client.get("/healthz"), client.get("/openapi.json"),
                     client.get("/.well-known/results-keys.json"), client.get("/nowhere"),
                     client.get("/api/verify"), client.post("/api/verify", content=b"{"),
                     client.post("/api/verify", json=[1]), client.get("/verify_app.css"),
                     client.post("/api/verify", json={"candidate_id": 5})]
    for r in responses:
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404, 405, 400, 400, 200, 422]


def test_health_openapi_and_keyset(fx: VerifyFixture) -> None:
    with TestClient(fx.app()) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        doc = client.get("/openapi.json").json()
        assert {"/api/verify", "/api/status", "/healthz"} <= set(doc["paths"])
        keys = client.get("/.well-known/results-keys.json").json()
        wording = client.get("/wording.json")
        modules = {name: client.get(f"/{name}") for name in
                   ("verify.js", "token.js", "wording.js", "verify_status.js")}
    assert keys == json.loads((fx.keys_dir / "keyset.json").read_text())
    assert wording.headers["content-type"] == "application/json"
    assert wording.json() == wording_catalogue()
    for name, response in modules.items():
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/javascript"), name
        # Every module a served module imports is served too.
        for imported in re.findall(r'from "\./([\w.]+)"', response.text):
            assert imported in modules, (name, imported)


def test_config_reports_every_problem_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        app_config(str(tmp_path / "none.sqlite"), str(tmp_path / "nokeys"),
                   redis_url="http://x", trusted_proxies=("not-an-ip",), port=0)
    text = str(err.value)
    for words in ("--index", "--keyset", "pepper", "--redis", "--trusted-proxy", "--port"):
        assert words in text


def test_clear_start_up_errors_for_corrupt_index_keyset_or_pepper(
        fx: VerifyFixture, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="not a verification index"):
        create_app(app_config(str(corrupt), str(fx.keys_dir)))
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    with pytest.raises(ConfigError, match="not a verification index"):
        create_app(app_config(str(empty), str(fx.keys_dir)))
    other_pepper = tmp_path / "pepper"
    other_pepper.write_bytes(bytes(32))
    with pytest.raises(ConfigError, match="pepper does not belong"):
        create_app(app_config(str(fx.index), str(fx.keys_dir), pepper=str(other_pepper)))
    bad_keyset = tmp_path / "keyset.json"
    bad_keyset.write_text('{"keys": [{"kid": "00"}]}')
    with pytest.raises(ConfigError, match="keyset"):
        create_app(app_config(str(fx.index), str(bad_keyset),
                              pepper=str(fx.keys_dir / "pepper")))


@pytest.mark.parametrize("path", ["/api/verify", "/api/status", "/healthz"])
def test_schema_driven_fuzz_finds_no_500_and_no_leak(fx: VerifyFixture, path: str) -> None:
    app = fx.app(failures_per_id=10_000, failures_per_address=1_000_000)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = next(op for op in schema[path].values())
    secrets = fx.ids_and_secrets()

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call_and_validate()
        assert response.status_code < 500
        for value in secrets:
            assert value not in response.text

    check()


def test_any_wrong_secret_for_a_real_id_gets_the_one_failure_body(fx: VerifyFixture) -> None:
    s = fx.statements[1]
    app = fx.app(failures_per_id=5)
    with TestClient(app) as client:
        failure = client.post("/api/verify", json={"candidate_id": "nobody",
                                                   "secret_number": "1"}).content

        @given(secret=st.text(min_size=1, max_size=64))
        @settings(max_examples=60, deadline=None)
        def check(secret: str) -> None:
            assume(secret.strip() != s.entry.candidate.secret)
            r = client.post("/api/verify", json=credentials(s, secret))
            assert r.status_code == 200 and r.content == failure

        check()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_runs_the_app_under_uvicorn_and_its_logs_hold_no_secret(
        fx: VerifyFixture, tmp_path: Path) -> None:
    port = _free_port()
    log_file = tmp_path / "server.log"
    results = Path(sys.executable).with_name("results")
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [str(results), "verify-app", "--index", str(fx.index), "--keyset",
             str(fx.keys_dir), "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            s = fx.statements[0]
            ok = httpx.post(f"{base}/api/verify", json=credentials(s)).json()
            assert ok["match"] is True
            bad = credentials(s, wrong(s.entry.candidate.secret))
            assert httpx.post(f"{base}/api/verify", json=bad).json()["match"] is False
            form = httpx.post(f"{base}/verify", data={"candidate_id": s.entry.candidate.
                                                      candidate_id, "secret_number": "1"})
            assert form.status_code == 200
            status = httpx.post(f"{base}/api/status", json={"statement_id": s.statement_id})
            assert status.json()["status"] == "valid"
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    logs = log_file.read_text()
    assert "POST /api/verify" in logs and "POST /api/status" in logs  # access log is on
    for value in fx.ids_and_secrets():
        assert value not in logs
    for st_ in fx.statements:
        assert st_.qr_text.split("#")[1] not in logs


def test_cli_reports_a_missing_index_clearly(tmp_path: Path) -> None:
    results = Path(sys.executable).with_name("results")
    done = subprocess.run([str(results), "verify-app", "--index", str(tmp_path / "x.sqlite"),
                           "--keyset", str(tmp_path)], check=False, capture_output=True,
                          text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "error:" in done.stderr and "--index" in done.stderr and "hint:" in done.stderr


def test_factory_configuration_from_the_environment(fx: VerifyFixture) -> None:
    env = {"RESULTS_VERIFY_INDEX": str(fx.index), "RESULTS_VERIFY_KEYSET": str(fx.keys_dir),
           "RESULTS_TRUSTED_PROXIES": "10.0.0.1, 10.0.1.0/24", "RESULTS_FAILURES_PER_ID": "3"}
    config = app_config_from_env(env)
    assert config.trusted_proxies == ("10.0.0.1", "10.0.1.0/24")
    assert config.failures_per_id == 3 and config.failures_per_address == 100
    with pytest.raises(ConfigError) as err:
        app_config_from_env({"RESULTS_FAILURES_PER_ID": "ten"})
    assert "RESULTS_VERIFY_INDEX" in str(err.value) and "whole number" in str(err.value)


@pytest.fixture
def live_app_with_a_superseded_statement(fx: VerifyFixture, tmp_path: Path):
    """The app under uvicorn over an index where statements[0] was superseded by [1]."""
    from dataclasses import replace as dc_replace
    from datetime import date

    from results_online.build.verification.index import row_for, write_index
    from results_online.index import StatementStatus
    from results_online.keys.store import load_keys

    pepper = load_keys(fx.keys_dir).pepper
    old, new = fx.statements[0], fx.statements[1:]
    retired = dc_replace(row_for(old, pepper), status=StatementStatus.SUPERSEDED,
                         status_date=date(2026, 9, 1), superseded_by=new[0].statement_id)
    index = tmp_path / "verify.sqlite"
    write_index(new, pepper, index, superseded=[retired])
    port = _free_port()
    results = Path(sys.executable).with_name("results")
    proc = subprocess.Popen([str(results), "verify-app", "--index", str(index), "--keyset",
                             str(fx.keys_dir), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base, old.statement_id, new[0].statement_id
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.browser
def test_status_script_in_chromium_sends_only_the_statement_id(
        live_app_with_a_superseded_statement) -> None:
    from playwright.sync_api import sync_playwright

    base, old_id, new_id = live_app_with_a_superseded_statement
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page()
            bodies: list[str | None] = []
            page.on("request", lambda r: bodies.append(r.post_data)
                    if r.url.endswith("/api/status") else None)
            page.goto(base + "/")
            page.evaluate("""() => {
              const p = document.createElement("p");
              p.id = "status";
              document.body.append(p);
            }""")
            texts = page.evaluate(
                """async ([a, b]) => {
                     const status = await import("/verify_status.js");
                     const words = await (await import("/wording.js")).loadWording();
                     const out = [];
                     for (const id of [a, b, "0000-0000-0000-0000"]) {
                       out.push(status.statusText(words, await status.statementStatus(id)));
                     }
                     await status.showStatus(words, a, document.getElementById("status"));
                     out.push(document.getElementById("status").dataset.status);
                     return out;
                   }""", [old_id, new_id])
        finally:
            browser.close()
    assert texts[0].startswith("Status: Superseded") and "1 September 2026" in texts[0]
    assert texts[1].startswith("Status: Valid")
    assert "does not know" in texts[2]
    assert texts[3] == "superseded"
    assert [json.loads(b) for b in bodies] == [
        {"statement_id": i} for i in (old_id, new_id, "0000-0000-0000-0000", old_id)]


def test_oversized_bodies_are_refused_without_buffering(fx: VerifyFixture) -> None:
    s = fx.statements[0]
    body = credentials(s) | {"padding": "x" * 5000}
    with TestClient(fx.app()) as client:
        r = client.post("/api/verify", json=body)
        assert r.status_code == 400
        assert client.post("/api/verify", json=credentials(s)).json()["match"] is True


def test_q_serves_the_verify_page_from_the_app_origin(fx: VerifyFixture) -> None:
    from results_online.web import app_csp, environment

    info = fx.statements[0].series
    about = {"board": info.board, "contact": info.contact, "site_url": info.site_url}
    page = environment().get_template("verify.html").render(csp=app_csp(header=False),
                                                             about=about)
    with TestClient(fx.app()) as client:
        r = client.get("/q")
        assert r.status_code == 200 and r.text == page and "/verify.js" in page
        assert r.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert client.get("/verify_status.js").headers["content-type"].startswith(
            "text/javascript")
        assert client.get("/secret.py").status_code == 404  # only listed assets are served


@pytest.mark.browser
def test_qr_page_in_chromium_checks_the_signature_and_shows_the_status(
        fx: VerifyFixture, live_app_with_a_superseded_statement) -> None:
    from playwright.sync_api import sync_playwright

    base, old_id, new_id = live_app_with_a_superseded_statement
    old, new = fx.statements[0], fx.statements[1]
    digits = {s.statement_id: s.qr_text.split("#", 1)[1] for s in (old, new)}
    tampered = digits[new_id][:-5] + str((int(digits[new_id][-5]) + 1) % 10) + \
        digits[new_id][-4:]
    seen: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            shown = {}
            for label, fragment in (("old", digits[old_id]), ("new", digits[new_id]),
                                    ("tampered", tampered)):
                page = browser.new_page()
                page.on("request", lambda r: seen.append(r.url + " " + (r.post_data or "")))
                page.goto(f"{base}/q#{fragment}")
                page.wait_for_selector("#verdict[data-valid]")
                if label != "tampered":
                    page.wait_for_selector("#status[data-status]")
                shown[label] = page.inner_text("main")
            # scanning another QR into the same tab re-checks
            page.evaluate(f"location.hash = '#{digits[new_id]}'")
            page.wait_for_selector("#status[data-status=valid]")
            shown["same tab"] = page.inner_text("main")
        finally:
            browser.close()
    assert "Status: Valid" in shown["same tab"] and "NOT VALID" not in shown["same tab"]
    assert "Genuine" in shown["old"] and "Status: Superseded" in shown["old"]
    assert "1 September 2026" in shown["old"]
    assert "Genuine" in shown["new"] and "Status: Valid" in shown["new"]
    assert new.entry.candidate.name in shown["new"]
    for c in new.entry.components:
        assert str(c.mark) in shown["new"]
    assert "NOT VALID" in shown["tampered"] and new.entry.candidate.name not in shown["tampered"]
    for request in seen:  # the token never leaves the browser
        assert digits[old_id] not in request and digits[new_id] not in request


def test_the_form_keeps_the_typed_id_after_a_failure_but_never_the_secret(
        fx: VerifyFixture) -> None:
    s = fx.statements[0]
    c = s.entry.candidate
    secret = wrong(c.secret)
    with TestClient(fx.app()) as client:
        r = client.post("/verify", data={"candidate_id": c.candidate_id, "secret_number": secret})
    assert "No result matches" in r.text
    assert f'value="{c.candidate_id}"' in r.text
    assert secret not in r.text


def test_an_id_typed_in_lower_case_with_spaces_verifies_and_is_not_a_failure(
        fx: VerifyFixture) -> None:
    s = fx.statements[1]
    c = s.entry.candidate
    typed_id = " ".join(c.candidate_id.lower())  # "c e 4 7 1 1 ..."
    typed_secret = "-".join(c.secret[i:i + 2] for i in range(0, len(c.secret), 2))
    assert typed_id != c.candidate_id and typed_secret != c.secret
    app = fx.app(failures_per_id=2)
    with TestClient(app) as client:
        for _ in range(3):  # more than the failure budget: none of these is a failure
            r = client.post("/api/verify", json={"candidate_id": typed_id,
                                                 "secret_number": typed_secret})
            assert r.json()["match"] is True
        form = client.post("/verify", data={"candidate_id": c.candidate_id.lower(),
                                             "secret_number": c.secret})
    assert c.name in form.text and "No result matches" not in form.text


def test_the_app_pages_carry_the_board_its_contact_and_help(fx: VerifyFixture) -> None:
    info = fx.statements[0].series
    with TestClient(fx.app()) as client:
        form = client.get("/").text
        help_page = client.get("/help")
        qr = client.get("/q").text
        catalogue = client.get(f"/catalogue/{info.year:04d}-{info.month:02d}.json")
        missing = client.get("/catalogue/1999-01.json")
    for page in (form, help_page.text, qr):
        assert info.board in page and "Privacy notice" in page
        assert info.site_url + "/accessibility/" in page
        if info.contact:
            assert info.contact in page
    assert help_page.status_code == 200
    assert "Superseded" in help_page.text and "Withdrawn" in help_page.text
    assert "photo identification" in help_page.text
    doc = catalogue.json()
    test = fx.statements[0].entry.test
    assert doc["board"] == info.board
    assert doc["tests"][test.code]["name"] == test.name
    assert doc["tests"][test.code]["components"] == {c.code: c.title for c in test.components}
    assert fx.statements[0].entry.candidate.name not in catalogue.text  # no personal data
    assert missing.status_code == 404
