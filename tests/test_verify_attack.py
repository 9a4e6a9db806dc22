"""The verification app tried as an attacker would: work order, lock-out, addresses, bytes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from factories import make_keys, seal_series
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from limits.aio.storage import memory
from starlette.testclient import TestClient
from verify_support import (
    VerifyFixture,
    credentials,
    guesses_at_once,
    make_fixture,
    post_from,
    small_series,
    wrong,
)

from results_online.build.verification.index import write_index
from results_online.config import app_config
from results_online.errors import ConfigError
from results_online.index import secret_budget
from results_online.verify_app import lookup
from results_online.verify_app.app import create_app
from results_online.verify_app.throttle import client_address, trusted_networks

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> VerifyFixture:
    return make_fixture(tmp_path_factory.mktemp("attack"))


def _traced(fx: VerifyFixture, monkeypatch: pytest.MonkeyPatch, **settings_: object
            ) -> tuple[Any, list[str]]:
    """An app whose index lookups, JSON decoding (and freeing), limiter calls and writes are
    traced, in order."""
    app = fx.app(**settings_)
    state = app.state.results
    trace: list[str] = []
    index = state.index
    real_rows = index.rows

    def rows(key: bytes) -> Any:
        found = real_rows(key)
        trace.append(f"index:{len(found[0])} rows")
        return found
    monkeypatch.setattr(index, "rows", rows)
    real_loads = json.loads

    class Freed:
        """Rides in a decoded statement: says when the statement is freed."""

        def __del__(self) -> None:
            trace.append("free decoded")

    def loads(text: str) -> Any:
        trace.append("decode")
        return real_loads(text) | {"probe": Freed()}
    monkeypatch.setattr(lookup.json, "loads", loads)

    class Written(memory.Entry):
        """An entry the in-memory limiter writes."""

        def __init__(self, expiry: int) -> None:
            trace.append("limit:write")
            super().__init__(expiry)
    monkeypatch.setattr(memory, "Entry", Written)
    throttle = state.throttle
    for name in ("reserve", "failed"):
        real = getattr(throttle, name)

        def traced(*args: Any, _real: Any = real, _name: str = name) -> Any:
            trace.append(f"limit:{_name}")
            return _real(*args)
        monkeypatch.setattr(throttle, name, traced)
    return app, trace


def test_every_failure_kind_does_the_same_work_in_the_same_order(
        fx: VerifyFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    victim, other = fx.statements[0], fx.statements[2]
    app, trace = _traced(fx, monkeypatch, failures_per_id=2)
    kinds = {
        "unknown ID": {"candidate_id": "Q0000000", "secret_number": "000000"},
        "wrong secret": credentials(other, wrong(other.entry.candidate.secret)),
    }
    traces: dict[str, list[str]] = {}
    with TestClient(app) as client:
        for name, body in kinds.items():
            trace.clear()
            assert client.post("/api/verify", json=body).json()["match"] is False
            traces[name] = list(trace)
        for _ in range(2):
            client.post("/api/verify",
                        json=credentials(victim, wrong(victim.entry.candidate.secret)))
        for name, body in (("locked, wrong secret",
                            credentials(victim, wrong(victim.entry.candidate.secret))),
                           ("locked, right secret", credentials(victim))):
            trace.clear()
            assert client.post("/api/verify", json=body).json()["match"] is False
            traces[name] = list(trace)
    first = traces["unknown ID"]
    assert all(t == first for t in traces.values()), traces
    # the lock is read before the index is touched
    assert first.index("limit:reserve") < min(i for i, t in enumerate(first)
                                              if t.startswith("index"))
    assert "decode" in first


def test_unknown_ids_read_real_candidates_rows_not_one_cached_decoy(fx: VerifyFixture) -> None:
    index = fx.app().state.results.index
    real = {index.rows(index.key(s.entry.candidate.candidate_id))[0] for s in fx.statements}
    unknown = [index.rows(index.key(f"Q{n:07d}")) for n in range(40)]
    assert all(not known and rows in real for rows, known in unknown)
    # spread over the candidates (one fixed decoy stays warm in the CPU cache), ...
    assert len({rows for rows, _ in unknown}) >= len(real) // 2
    # ... and one unknown ID reads the same rows every time, as a known ID does
    assert index.rows(index.key("Q0000007")) == unknown[7]


def _four_digit_fixture(tmp: Path) -> VerifyFixture:
    keys = make_keys(tmp / "keys")
    series = small_series()
    short = tuple(replace(e, candidate=replace(e.candidate, secret=e.candidate.secret[:4]))
                  for e in series.entries)
    statements = seal_series(replace(series, entries=short,
                                     candidates=tuple(e.candidate for e in short)), keys)
    index = tmp / "verify.sqlite"
    write_index(statements, keys.pepper, index)
    return VerifyFixture(tmp / "keys", index, statements)


def test_four_digit_secrets_get_a_budget_under_one_percent_a_year(tmp_path: Path) -> None:
    fx4 = _four_digit_fixture(tmp_path)
    budget = secret_budget(4)
    assert budget.per_year() < 100 and budget.chance(4) < 0.01
    s = fx4.statements[0]
    bad = credentials(s, wrong(s.entry.candidate.secret))
    with TestClient(fx4.app()) as client:
        for _ in range(budget.failures):
            assert client.post("/api/verify", json=bad).json()["match"] is False
        # the budget of this window is spent: the right secret number now fails too
        assert client.post("/api/verify", json=credentials(s)).json()["match"] is False


def test_the_share_code_still_works_when_the_id_is_locked(fx: VerifyFixture) -> None:
    s = fx.statements[3]
    c = s.entry.candidate
    with TestClient(fx.app(failures_per_id=2)) as client:
        for _ in range(5):
            client.post("/api/verify", json=credentials(s, wrong(c.secret)))
        assert client.post("/api/verify", json=credentials(s)).json()["match"] is False
        r = client.post("/api/verify", json={"candidate_id": c.candidate_id,
                                             "share_code": s.share_code.lower()})
        form = client.post("/verify", data={"candidate_id": c.candidate_id,
                                            "share_code": s.share_code.replace("-", " ")})
        status = client.post("/api/status", json={"statement_id": s.statement_id})
    assert status.json()["status"] == "valid"  # nor is the QR's status check paused
    assert r.json()["match"] is True
    [shown] = r.json()["statements"]
    assert shown["statement_id"] == s.statement_id
    assert form.status_code == 200 and c.name in form.text


def test_share_code_failures_count_per_address_never_per_id(fx: VerifyFixture) -> None:
    s = fx.statements[4]
    c = s.entry.candidate
    wrong_code = "0000-0000-0000-0000-0000"
    app = fx.app(failures_per_id=2, failures_per_address=3)
    calls = [(f"198.51.100.{i}", "/api/verify",
              {"candidate_id": c.candidate_id, "share_code": wrong_code}) for i in range(1, 9)]
    calls += [("198.51.100.77", "/api/verify", credentials(s))]  # the ID's budget is untouched
    calls += [("203.0.113.9", "/api/verify", {"candidate_id": f"X{i}", "share_code": wrong_code})
              for i in range(3)]
    calls += [("203.0.113.9", "/api/verify",
               {"candidate_id": c.candidate_id, "share_code": s.share_code})]
    responses = post_from(app, calls)
    assert all(r.json()["match"] is False for r in responses[:8])
    assert responses[8].json()["match"] is True
    assert responses[-1].json()["match"] is False  # that address used up its share-code budget


def test_wrong_share_code_answers_the_one_failure(fx: VerifyFixture) -> None:
    s = fx.statements[1]
    c = s.entry.candidate
    with TestClient(fx.app()) as client:
        failure = client.post("/api/verify", json={"candidate_id": "nobody",
                                                   "secret_number": "1"}).content
        other = fx.statements[2].share_code
        for body in ({"candidate_id": c.candidate_id, "share_code": other},
                     {"candidate_id": "nobody", "share_code": s.share_code}):
            r = client.post("/api/verify", json=body)
            assert r.status_code == 200 and r.content == failure
        both = client.post("/api/verify", json=credentials(s) | {"share_code": s.share_code})
        assert both.status_code == 422


def test_ipv4_mapped_ipv6_is_the_ipv4_address() -> None:
    assert client_address({"client": ("::ffff:192.0.2.7", 1), "headers": []}, ()) == "192.0.2.7"
    trusted = trusted_networks(["10.0.0.0/8"])
    scope = {"client": ("::ffff:10.0.0.1", 1),
             "headers": [(b"x-forwarded-for", b"::ffff:203.0.113.5")]}
    assert client_address(scope, trusted) == "203.0.113.5"


def test_ipv6_addresses_of_one_64_share_a_budget(fx: VerifyFixture) -> None:
    s = fx.statements[5]
    app = fx.app(failures_per_address=3)
    calls = [(f"2001:db8:1:2::{i:x}", "/api/verify",
              {"candidate_id": f"Z{i}", "secret_number": "3333"}) for i in range(1, 4)]
    calls += [("2001:db8:1:2:ffff::1", "/api/verify", credentials(s)),
              ("2001:db8:1:3::1", "/api/verify", credentials(s))]
    *_, same_64, other_64 = post_from(app, calls)
    assert same_64.json()["match"] is False
    assert other_64.json()["match"] is True


def test_ipv6_prefix_is_configurable() -> None:
    scope = {"client": ("2001:db8:1:2:3:4:5:6", 1), "headers": []}
    assert client_address(scope, ()) == "2001:db8:1:2::/64"
    assert client_address(scope, (), ipv6_prefix=48) == "2001:db8:1::/48"
    assert client_address(scope, (), ipv6_prefix=128) == "2001:db8:1:2:3:4:5:6/128"


HOSTILE = ["\ud800", "a\udfffb", "\x00", "C0\x00001", "e" + "\u0301" * 10_000,
           "9" * 5000, "\u202e1234", "\uffff", "\U0010ffff"]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["candidate_id", "secret_number", "share_code",
                                   "statement_id"])
def test_hostile_strings_get_a_4xx(fx: VerifyFixture, value: str, field: str) -> None:
    s = fx.statements[0]
    body = credentials(s) | {field: value}
    if field == "share_code":
        body.pop("secret_number")
    raw = json.dumps(body).encode()  # ensure_ascii: lone surrogates travel as \\ud800
    with TestClient(fx.app(), raise_server_exceptions=False) as client:
        for path in ("/api/verify", "/api/status"):
            r = client.post(path, content=raw, headers={"content-type": "application/json"})
            assert r.status_code < 500, (path, r.status_code)


def _nested(depth: int) -> bytes:
    return b'{"candidate_id": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("raw", [_nested(100_000)[:4000], b"[" * 3000 + b"]" * 3000,
                                 b'{"candidate_id": 1e999999, "secret_number": "1"}',
                                 b'{"candidate_id": ' + b"9" * 4000 + b"}",
                                 b'{"statement_id": "\\ud800"}', b"\xff\xfe{}"])
def test_hostile_json_documents_get_a_4xx(fx: VerifyFixture, raw: bytes) -> None:
    with TestClient(fx.app(), raise_server_exceptions=False) as client:
        for path in ("/api/verify", "/api/status", "/verify"):
            r = client.post(path, content=raw, headers={"content-type": "application/json"})
            assert r.status_code < 500, (path, r.status_code)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(codec=None, categories=None)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20)
HOSTILE_TEXT = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=()), max_size=80),  # incl. surrogates
    st.sampled_from(HOSTILE),
    st.integers(1, 20_000).map(lambda n: "a" + "\u0300" * n),
    st.integers(0, 10**40).map(str))


@given(candidate_id=HOSTILE_TEXT | JSON_VALUES, proof=HOSTILE_TEXT | JSON_VALUES,
       field=st.sampled_from(["secret_number", "share_code"]))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_json_a_client_can_send_gets_no_500(fx: VerifyFixture, candidate_id: object,
                                                proof: object, field: str) -> None:
    raw = json.dumps({"candidate_id": candidate_id, field: proof}).encode()
    with TestClient(fx.app(failures_per_id=10**6, failures_per_address=10**6),
                    raise_server_exceptions=False) as client:
        r = client.post("/api/verify", content=raw, headers={"content-type": "application/json"})
        form = urlencode({"candidate_id": str(candidate_id)[:200], field: str(proof)[:200]},
                         errors="surrogatepass")  # lone surrogates arrive as invalid UTF-8
        f = client.post("/verify", content=form.encode(),
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code < 500 and f.status_code < 500


def test_new_security_headers_and_hsts_only_over_https(fx: VerifyFixture) -> None:
    with TestClient(fx.app()) as plain, \
            TestClient(fx.app(), base_url="https://verify.test") as tls, \
            TestClient(fx.app(hsts_max_age=0), base_url="https://verify.test") as off:
        r_plain, r_tls, r_off = plain.get("/"), tls.get("/"), off.get("/")
    for r in (r_plain, r_tls, r_off):
        assert r.headers["cross-origin-resource-policy"] == "same-origin"
        assert "camera=()" in r.headers["permissions-policy"]
    assert "strict-transport-security" not in r_plain.headers
    assert "strict-transport-security" not in r_off.headers
    assert r_tls.headers["strict-transport-security"].startswith("max-age=31536000")


def test_hsts_behind_a_trusted_proxy_follows_x_forwarded_proto(fx: VerifyFixture) -> None:
    proxied = post_from(fx.app(trusted_proxies=("192.0.2.80",)),
                        [("192.0.2.80", "/api/status", {"statement_id": "0" * 16})],
                        headers={"X-Forwarded-Proto": "https"})[0]
    spoofed = post_from(fx.app(), [("192.0.2.81", "/api/status", {"statement_id": "0" * 16})],
                        headers={"X-Forwarded-Proto": "https"})[0]
    assert "strict-transport-security" in proxied.headers
    assert "strict-transport-security" not in spoofed.headers


def test_the_index_refuses_an_old_format_clearly(fx: VerifyFixture, tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    shutil.copy(fx.index, old)
    with sqlite3.connect(old) as con:
        con.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
    with pytest.raises(ConfigError, match=r"format '1'.*share codes") as err:
        create_app(app_config(str(old), str(fx.keys_dir)))
    assert "rebuild" in (err.value.hint or "")


def test_concurrent_guesses_of_one_id_get_no_more_than_its_budget(fx: VerifyFixture) -> None:
    app = fx.app(failures_per_id=3)
    guesses, after, granted = guesses_at_once(app, fx.statements[2])
    assert guesses == [False] * 20
    assert after == [False]  # locked
    assert granted.count(True) == 3  # 20 guesses at once were checked as 3, the budget
    assert app.state.results.throttle._flights == {}
