"""Registered organisations on SQLite and on a real PostgreSQL server: registration by
e-mail over real SMTP, API keys, single and bulk checks, budgets, the audit log, the CLI."""

from __future__ import annotations

import asyncio
import csv
import email
import hashlib
import io
import itertools
import json
import logging
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

import httpx
import psycopg
import pytest
import redis
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from localhost import free_port, smtp_server
from postgres import pg_bin, postgres_server
from redis_server import redis_server
from schemathesis.checks import positive_data_acceptance
from starlette.testclient import TestClient
from verify_support import VerifyFixture, credentials, make_fixture, wrong

from results_online.commands.main import main
from results_online.config import app_config, app_config_from_env, orgs_database
from results_online.errors import ConfigError
from results_online.verify_app.app import create_app
from results_online.verify_app.orgs.keys import code_digest, new_code, new_key
from results_online.verify_app.orgs.store import AuditEntry, OrgStore

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
FAILURE = "No result matches this candidate ID and secret number."


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    with smtp_server(inbox) as server:
        yield server, inbox


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> VerifyFixture:
    return make_fixture(tmp_path_factory.mktemp("orgs"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    if pg_bin() is None:
        pytest.skip("PostgreSQL is installed by scripts/bootstrap.sh")
    with postgres_server() as url:
        yield url


_databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, empty organisations database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orgs.sqlite'}"
    server: str = request.getfixturevalue("pg_server")
    name = f"orgs_{next(_databases)}"
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(autouse=True)
def _no_secrets_logged(caplog: pytest.LogCaptureFixture, fx: VerifyFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for value in fx.ids_and_secrets():
        assert value not in text
    assert "ro1_" not in text


def add_org(database: str, capsys: pytest.CaptureFixture[str], name: str = "Uni of Test",
            address: str = "admissions@uni.example") -> str:
    """Add an organisation with the CLI; its API key, as printed once."""
    assert main(["orgs", "add", name, "--email", address, "--database", database]) == 0
    out = capsys.readouterr().out
    keys = re.findall(r"ro1_\S+", out)
    assert len(keys) == 1
    return keys[0]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def check(client: TestClient, key: str, body: dict[str, str]) -> dict[str, Any]:
    r = client.post("/api/v1/verify", json=body, headers=bearer(key))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_self_registration_by_email_gives_a_key_that_verifies(
        fx: VerifyFixture, database: str, smtp: tuple[str, Inbox]) -> None:
    relay, inbox = smtp
    s = fx.statements[0]
    with TestClient(fx.app(database_url=database, smtp=relay,
                           public_url="https://verify.example")) as client:
        form = client.get("/orgs/register")
        assert form.status_code == 200 and "<script" not in form.text
        r = client.post("/orgs/register", data={"name": "Uni of Test",
                                                "email": "admissions@uni.example"})
        assert r.status_code == 200 and "Check your e-mail" in r.text
        assert len(inbox.messages) == 1
        msg = inbox.messages[0]
        assert msg["To"] == "admissions@uni.example"
        assert msg["From"] == "noreply@verify.example"
        assert msg["Message-ID"].endswith("@verify.example>")
        body = msg.get_content()
        code = re.search(r"\b([A-Z2-7]{4}(?:-[A-Z2-7]{1,4}){6})\b", body)
        assert code and "https://verify.example/orgs/confirm" in body
        assert code.group(1) not in "".join(re.findall(r"https?://\S+", body))
        assert client.post("/orgs/confirm", data={"code": "AAAA-BBBB"}).status_code == 400
        done = client.post("/orgs/confirm", data={"code": code.group(1).lower()})
        assert done.status_code == 200 and "only this once" in done.text
        key = re.search(r'value="(ro1_[^"]+)"', done.text)
        assert key
        # the code works once only
        assert client.post("/orgs/confirm", data={"code": code.group(1)}).status_code == 400
        answer = check(client, key.group(1), credentials(s))
        assert answer["match"] is True
        assert answer["statements"][0]["name"] == s.entry.candidate.name
        assert answer["statements"][0]["statement_id"] == s.statement_id
        # the same address again: the same answer, and no second e-mail
        again = client.post("/orgs/register", data={"name": "Impostor",
                                                    "email": "Admissions@uni.example"})
        assert again.status_code == 200 and "Check your e-mail" in again.text
        assert len(inbox.messages) == 1


def test_with_board_approval_the_key_works_only_once_approved(
        fx: VerifyFixture, database: str, smtp: tuple[str, Inbox],
        capsys: pytest.CaptureFixture[str]) -> None:
    relay, inbox = smtp
    s = fx.statements[1]
    # No API-key cache: the operator's revocation below takes effect at the next request.
    with TestClient(fx.app(database_url=database, smtp=relay, org_approval=True,
                           org_key_cache_seconds=0)) as client:
        client.post("/orgs/register", data={"name": "Acme Ltd", "email": "hr@acme.example"})
        code = re.search(r"^ {4}([A-Z2-7-]+)\s*$", inbox.messages[0].get_content(), re.M)
        assert code
        done = client.post("/orgs/confirm", data={"code": code.group(1)})
        assert "approves each organisation" in done.text
        key = re.search(r'value="(ro1_[^"]+)"', done.text)
        assert key
        r = client.post("/api/v1/verify", json=credentials(s), headers=bearer(key.group(1)))
        assert r.status_code == 403
        assert main(["orgs", "list", "--database", database]) == 0
        assert "pending\thr@acme.example" in capsys.readouterr().out
        assert main(["orgs", "approve", "hr@acme.example", "--database", database]) == 0
        assert check(client, key.group(1), credentials(s))["match"] is True
        assert main(["orgs", "revoke", "hr@acme.example", "--database", database]) == 0
        r = client.post("/api/v1/verify", json=credentials(s), headers=bearer(key.group(1)))
        assert r.status_code == 401


def test_a_key_revoked_elsewhere_stops_working_within_the_cache_time(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str]) -> None:
    key = add_org(database, capsys)
    body = credentials(fx.statements[0])
    with TestClient(fx.app(database_url=database, org_key_cache_seconds=600)) as kept, \
            TestClient(fx.app(database_url=database, org_key_cache_seconds=1)) as brief:
        assert check(kept, key, body)["match"] is True
        assert check(brief, key, body)["match"] is True
        assert main(["orgs", "revoke", "admissions@uni.example", "--database", database]) == 0
        # Within its cache time a replica still trusts the key the database vouched for...
        assert check(kept, key, body)["match"] is True
        time.sleep(1.2)
        # ...and once that time has passed it asks again, and the key is refused.
        r = brief.post("/api/v1/verify", json=body, headers=bearer(key))
        assert r.status_code == 401
        # A key revoked through the app itself is refused at once, cache or not.
        other = add_org(database, capsys, "Other", "other@uni.example")
        assert check(kept, other, body)["match"] is True
        assert kept.post("/api/v1/keys/revoke", headers=bearer(other)).status_code == 200
        assert kept.post("/api/v1/verify", json=body, headers=bearer(other)).status_code == 401


def test_without_a_relay_organisations_cannot_register_themselves(
        fx: VerifyFixture, database: str) -> None:
    with TestClient(fx.app(database_url=database)) as client:
        assert client.get("/orgs/register").status_code == 503
        r = client.post("/orgs/register", data={"name": "X", "email": "x@x.example"})
        assert r.status_code == 503


def _all_stored_bytes(database: str) -> bytes:
    engine = sa.create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    out = b""
    with engine.connect() as con:
        for table in ("organisations", "api_keys", "audit"):
            for row in con.execute(sa.text(f"SELECT * FROM {table}")):
                out += b"|".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    engine.dispose()
    return out


def test_api_keys_are_stored_only_as_their_sha256(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str]) -> None:
    key = add_org(database, capsys)
    with TestClient(fx.app(database_url=database)) as client:
        check(client, key, credentials(fx.statements[0]))
        check(client, key, credentials(fx.statements[1], "0000"))
    stored = _all_stored_bytes(database)
    assert key.encode() not in stored and key.rsplit("_", 1)[1].encode() not in stored
    assert hashlib.sha256(key.encode()).digest() in stored
    for value in fx.ids_and_secrets():  # nor any candidate ID or secret in the audit log
        assert value.encode() not in stored


def test_rotate_and_revoke_keys(fx: VerifyFixture, database: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    old = add_org(database, capsys)
    body = credentials(fx.statements[0])
    with TestClient(fx.app(database_url=database)) as client:
        r = client.post("/api/v1/keys/rotate", headers=bearer(old))
        assert r.status_code == 200
        new = r.json()["api_key"]
        assert new != old
        assert client.post("/api/v1/verify", json=body, headers=bearer(old)).status_code == 401
        assert check(client, new, body)["match"] is True
        assert main(["orgs", "rotate", "1", "--database", database]) == 0  # a second key
        third = re.findall(r"ro1_\S+", capsys.readouterr().out)[0]
        assert client.post("/api/v1/keys/revoke", headers=bearer(new)).status_code == 200
        assert client.post("/api/v1/verify", json=body, headers=bearer(new)).status_code == 401
        assert check(client, third, body)["match"] is True
        for bad in ({}, {"Authorization": "Basic abc"}, bearer("ro1_nope_nope")):
            r = client.post("/api/v1/verify", json=body, headers=bad)
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_batch_answers_each_row_from_json_or_csv(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str]) -> None:
    key = add_org(database, capsys)
    a, b = fx.statements[0], fx.statements[1]
    rows = [credentials(a), credentials(b, wrong(b.entry.candidate.secret)),
            {"candidate_id": "X" * 65, "secret_number": "1"}, {"candidate_id": "\ud800",
                                                               "secret_number": "1"},
            credentials(b)]
    with TestClient(fx.app(database_url=database)) as client:
        r = client.post("/api/v1/verify/batch", content=json.dumps(rows),  # \ud800 escaped
                        headers=bearer(key) | {"Content-Type": "application/json"})
        assert r.status_code == 200
        got = r.json()["results"]
        assert [g["row"] for g in got] == [1, 2, 3, 4, 5]
        assert got[0]["match"] and got[0]["statements"][0]["name"] == a.entry.candidate.name
        assert got[1] == {"row": 2, "match": False, "message": FAILURE}
        assert got[2]["error"] == got[3]["error"] == "invalid"
        assert got[4]["match"] and got[4]["statements"][0]["statement_id"] == b.statement_id
        text = "candidate_id,secret_number\r\n" + "".join(
            f"{r['candidate_id']},{r['secret_number']}\r\n" for r in (rows[0], rows[1]))
        r = client.post("/api/v1/verify/batch", content=text.encode(),
                        headers=bearer(key) | {"Content-Type": "text/csv",
                                               "Accept": "text/csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(r.text)))
        assert [(t["row"], t["outcome"]) for t in table] == [("1", "match"), ("2", "no_match")]
        assert table[0]["name"] == a.entry.candidate.name
        r = client.post("/api/v1/verify/batch", headers=bearer(key),
                        files={"file": ("c.csv", text.encode(), "text/csv")})
        assert [x["match"] for x in r.json()["results"]] == [True, False]
        too_many = [credentials(a)] * 1001
        r = client.post("/api/v1/verify/batch", json=too_many, headers=bearer(key))
        assert r.status_code == 400 and "1000" in r.json()["message"]
        for bad in (b"{", b'{"candidate_id": 1}', b"[]"):
            r = client.post("/api/v1/verify/batch", content=bad, headers=bearer(key))
            assert r.status_code == 400


def test_one_organisations_failures_never_lock_another_or_the_public(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str]) -> None:
    key_a = add_org(database, capsys, "A", "a@a.example")
    key_b = add_org(database, capsys, "B", "b@b.example")
    s, other = fx.statements[0], fx.statements[2]
    bad = credentials(s, wrong(s.entry.candidate.secret))
    with TestClient(fx.app(database_url=database, org_failures_per_id=3,
                           org_failures_per_org=5)) as client:
        for _ in range(3):
            assert check(client, key_a, bad)["match"] is False
        assert check(client, key_a, credentials(s)) == {"row": 1, "match": False,
                                                        "message": FAILURE}
        assert check(client, key_b, credentials(s))["match"] is True
        r = client.post("/api/verify", json=credentials(s))  # the anonymous path is untouched
        assert r.json()["match"] is True
        for _ in range(12):  # lock the candidate on the anonymous path
            client.post("/api/verify", json=bad)
        assert client.post("/api/verify", json=credentials(s)).json()["match"] is False
        assert check(client, key_b, credentials(s))["match"] is True
        # A's daily budget (5) is used up by two more failures: then nothing of A's matches
        assert check(client, key_a, credentials(other))["match"] is True
        assert check(client, key_a, credentials(other, "x"))["match"] is False
        assert check(client, key_a, credentials(other))["match"] is False
        assert check(client, key_b, credentials(other))["match"] is True


def test_audit_log_is_append_only_and_exported_per_organisation(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Any) -> None:
    key_a = add_org(database, capsys, "A", "a@a.example")
    key_b = add_org(database, capsys, "B", "b@b.example")
    s = fx.statements[0]
    with TestClient(fx.app(database_url=database)) as client:
        check(client, key_a, credentials(s))
        client.post("/api/v1/verify/batch", headers=bearer(key_a),
                    json=[credentials(s, "1"), {"candidate_id": ""}])
        check(client, key_b, credentials(fx.statements[1]))
        r = client.get("/api/v1/audit", headers=bearer(key_a))
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        log = list(csv.DictReader(io.StringIO(r.text)))
        assert [(e["row"], e["statement_id"], e["outcome"]) for e in log] == [
            ("1", s.statement_id, "match"), ("1", "", "no_match"), ("2", "", "invalid")]
        assert log[1]["request_id"] == log[2]["request_id"] != log[0]["request_id"]
        assert client.get("/api/v1/audit").status_code == 401
    out = tmp_path / "audit-a.csv"
    assert main(["orgs", "audit", "a@a.example", "--out", str(out), "--database", database]) == 0
    assert out.read_bytes().decode() == r.text
    for value in fx.ids_and_secrets():
        assert value not in r.text
    engine = sa.create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    for statement in ("UPDATE audit SET outcome = 'match'", "DELETE FROM audit"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as con:
            con.execute(sa.text(statement))
    with engine.connect() as con:
        assert con.execute(sa.text("SELECT count(*) FROM audit")).scalar_one() == 4
    engine.dispose()


def test_bulk_page_turns_a_pasted_csv_into_a_results_download(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str]) -> None:
    key = add_org(database, capsys)
    a, b = fx.statements[0], fx.statements[3]
    pasted = (f"{a.entry.candidate.candidate_id},{a.entry.candidate.secret}\n"
              f"{b.entry.candidate.candidate_id},{wrong(b.entry.candidate.secret)}\n")
    with TestClient(fx.app(database_url=database)) as client:
        page = client.get("/orgs/bulk")
        assert page.status_code == 200
        assert "<script" not in page.text and 'action="/orgs/bulk"' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        r = client.post("/orgs/bulk", data={"api_key": key, "csv": pasted},
                        files={"file": ("", b"", "application/octet-stream")})
        assert r.status_code == 200
        assert r.headers["content-disposition"] == 'attachment; filename="results.csv"'
        table = list(csv.DictReader(io.StringIO(r.text)))
        assert [(t["candidate_id"], t["outcome"]) for t in table] == [
            (a.entry.candidate.candidate_id, "match"), (b.entry.candidate.candidate_id,
                                                        "no_match")]
        assert table[0]["statement_id"] == a.display_id and table[0]["test"] == a.entry.test.name
        assert b.entry.candidate.secret not in r.text and a.entry.candidate.secret not in r.text
        wrong_key = client.post("/orgs/bulk", data={"api_key": "ro1_x_y", "csv": pasted},
                                files={"file": ("", b"", "application/octet-stream")})
        assert wrong_key.status_code == 401 and "not valid" in wrong_key.text
        assert key not in wrong_key.text


def test_two_replicas_share_accounts_and_the_log(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str]) -> None:
    key = add_org(database, capsys)
    with TestClient(fx.app(database_url=database)) as one, \
            TestClient(fx.app(database_url=database)) as two:
        new = one.post("/api/v1/keys/rotate", headers=bearer(key)).json()["api_key"]
        assert check(two, new, credentials(fx.statements[0]))["match"] is True
        assert two.post("/api/v1/verify", json={}, headers=bearer(key)).status_code == 401
        log = one.get("/api/v1/audit", headers=bearer(new)).text
        assert fx.statements[0].statement_id in log


def test_openapi_describes_the_versioned_organisation_api(fx: VerifyFixture,
                                                          database: str) -> None:
    with TestClient(fx.app(database_url=database)) as client:
        doc = client.get("/openapi.json").json()
    for path in ("/api/v1/verify", "/api/v1/verify/batch", "/api/v1/keys/rotate",
                 "/api/v1/keys/revoke", "/api/v1/audit"):
        op = next(iter(doc["paths"][path].values()))
        assert op["security"] == [{"apiKey": []}]
        assert "401" in op["responses"]
    assert doc["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    batch = doc["paths"]["/api/v1/verify/batch"]["post"]["requestBody"]["content"]
    assert set(batch) == {"application/json", "text/csv", "multipart/form-data"}
    assert batch["application/json"]["schema"]["maxItems"] == 1000


def test_registrations_are_limited_per_address_and_an_unconfirmed_one_expires(
        fx: VerifyFixture, database: str, smtp: tuple[str, Inbox]) -> None:
    relay, inbox = smtp
    with TestClient(fx.app(database_url=database, smtp=relay)) as client:
        answers = [client.post("/orgs/register", data={"name": f"Org {i}",
                                                       "email": f"o{i}@org.example"})
                   for i in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    assert len(inbox.messages) == 5
    store = OrgStore(database)
    t0 = datetime(2026, 8, 20, 9, 0, tzinfo=UTC)
    code, digest = new_code()
    assert store.register("Late Ltd", "late@late.example", digest, t0)
    assert store.confirm(code_digest(code), new_key(), t0 + timedelta(days=3), False) is None
    code2, digest2 = new_code()  # registering again sends a new code; the old one is dead
    assert store.register("Late Ltd", "late@late.example", digest2, t0 + timedelta(days=3))
    later = t0 + timedelta(days=3, hours=1)
    assert store.confirm(code_digest(code), new_key(), later, False) is None
    confirmed = store.confirm(code_digest(code2), new_key(), later, False)
    assert confirmed is not None and confirmed.status == "active"
    _, digest3 = new_code()  # once confirmed, the address cannot be registered again
    assert not store.register("Impostor", "LATE@late.example", digest3, later)
    store.close()


def test_a_refused_confirmation_email_is_reported_and_the_address_stays_free(
        fx: VerifyFixture, database: str, smtp: tuple[str, Inbox]) -> None:
    relay, inbox = smtp
    data = {"name": "Uni of Test", "email": "admissions@uni.example"}
    with TestClient(fx.app(database_url=database, smtp=f"127.0.0.1:{free_port()}")) as client:
        r = client.post("/orgs/register", data=data)
    assert r.status_code == 503 and "could not be sent" in r.text
    with TestClient(fx.app(database_url=database, smtp=relay)) as client:
        assert client.post("/orgs/register", data=data).status_code == 200
    assert len(inbox.messages) == 1


@pytest.mark.parametrize("path", ["/api/v1/verify", "/api/v1/verify/batch"])
def test_schema_driven_fuzz_of_the_org_api_finds_no_500(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str],
        path: str) -> None:
    key = add_org(database, capsys)
    app = fx.app(database_url=database, org_failures_per_id=10_000,
                 org_failures_per_org=1_000_000)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = next(op for op in schema[path].values())
    secrets = fx.ids_and_secrets()

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        # The schema cannot say "UTF-8 CSV" or "not only spaces": rejecting such a body with
        # a documented 4xx is right, so only that check is left out.
        response = case.call_and_validate(headers=bearer(key),
                                          excluded_checks=[positive_data_acceptance])
        assert response.status_code < 500
        for value in secrets:
            assert value not in response.text

    fuzz()


def test_by_default_accounts_live_beside_the_index_which_stays_untouched(
        fx: VerifyFixture, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    folder = tmp_path / "private"
    folder.mkdir()
    index = folder / "verify.sqlite"
    index.write_bytes(fx.index.read_bytes())
    before = hashlib.sha256(index.read_bytes()).hexdigest()
    assert main(["orgs", "add", "Uni", "--email", "u@uni.example", "--index", str(index)]) == 0
    key = re.findall(r"ro1_\S+", capsys.readouterr().out)[0]
    app = create_app(app_config(str(index), str(fx.keys_dir)))
    with TestClient(app) as client:
        assert check(client, key, credentials(fx.statements[0]))["match"] is True
    assert (folder / "orgs.sqlite").is_file()
    assert hashlib.sha256(index.read_bytes()).hexdigest() == before


def test_organisation_settings_are_checked_and_read_from_the_environment(
        fx: VerifyFixture, tmp_path: Any) -> None:
    with pytest.raises(ConfigError) as err:
        app_config(str(fx.index), str(fx.keys_dir), database_url=f"sqlite:///{fx.index}",
                   smtp="no-port", public_url="ftp://x", org_failures_per_org=0,
                   org_key_cache_seconds=-1)
    for words in ("must not be the verification index", "--smtp", "--public-url",
                  "organisation failure limits", "API-key cache time"):
        assert words in str(err.value)
    with pytest.raises(ConfigError, match="--database takes"):
        app_config(str(fx.index), str(fx.keys_dir), database_url="mysql://x")
    config = app_config_from_env({
        "RESULTS_VERIFY_INDEX": str(fx.index), "RESULTS_VERIFY_KEYSET": str(fx.keys_dir),
        "RESULTS_DATABASE_URL": "postgresql://u@127.0.0.1:5432/orgs",
        "RESULTS_ORG_APPROVAL": "board", "RESULTS_SMTP": "127.0.0.1:2525",
        "RESULTS_ORG_FAILURES_PER_ID": "4", "RESULTS_ORG_KEY_CACHE_SECONDS": "0"})
    assert config.org_database == "postgresql://u@127.0.0.1:5432/orgs"
    assert config.org_approval and config.smtp == ("127.0.0.1", 2525)
    assert config.org_failures_per_id == 4 and config.org_key_cache_seconds == 0
    assert "u@127.0.0.1" not in repr(config)
    with pytest.raises(ConfigError, match="--database"):
        orgs_database(None, None, {})


def test_concurrent_checks_of_two_organisations_are_answered_and_logged_apart(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str]) -> None:
    keys = [add_org(database, capsys, "A", "a@a.example"),
            add_org(database, capsys, "B", "b@b.example")]
    calls = []
    for i in range(48):
        s = fx.statements[i % len(fx.statements)]
        right = i % 3 != 0
        body = credentials(s) if right else credentials(s, wrong(s.entry.candidate.secret))
        calls.append((keys[i % 2], body, right, s))
    app = fx.app(database_url=database)

    async def run() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return list(await asyncio.gather(*(
                client.post("/api/v1/verify", json=body, headers=bearer(key))
                for key, body, _, _ in calls)))

    for response, (_, _, right, s) in zip(asyncio.run(run()), calls, strict=True):
        answer = response.json()
        assert answer["match"] is right
        if right:
            assert answer["statements"][0]["statement_id"] == s.statement_id
    with TestClient(app) as client:
        for n, key in enumerate(keys):
            log = list(csv.DictReader(io.StringIO(
                client.get("/api/v1/audit", headers=bearer(key)).text)))
            mine = [c for c in calls if c[0] == key]
            assert len(log) == len(mine) == 24
            assert sorted(e["outcome"] for e in log) == sorted(
                "match" if right else "no_match" for _, _, right, _ in mine), n
            assert sorted(e["statement_id"] for e in log if e["statement_id"]) == sorted(
                s.statement_id for _, _, right, s in mine if right)


def test_a_database_outage_answers_503_and_says_nothing_of_it(
        fx: VerifyFixture, pg_server: str, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    name = f"orgs_{next(_databases)}"
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    url = pg_server.rsplit("/", 1)[0] + "/" + name
    key = add_org(url, capsys)
    body = credentials(fx.statements[0])
    with TestClient(fx.app(database_url=url)) as client:
        assert check(client, key, body)["match"] is True
        assert client.get("/healthz").json() == {"status": "ok"}
        with psycopg.connect(pg_server, autocommit=True) as con:
            con.execute(f"DROP DATABASE {name} WITH (FORCE)")
        # The key is cached and the match is in memory: only the audit write can fail, and a
        # check whose entry is not committed is not answered.
        r = client.post("/api/v1/verify", json=body, headers=bearer(key))
        assert r.status_code == 503 and r.json()["error"] == "unavailable"
        health = client.get("/healthz")  # a load balancer takes this replica out
        assert health.status_code == 503 and health.json() == {"status": "unavailable"}
        page = client.post("/orgs/bulk", data={"api_key": key, "csv": "a,b"},
                           files={"file": ("", b"", "application/octet-stream")})
        assert page.status_code == 503 and "unavailable just now" in page.text
    assert name not in r.text + page.text
    assert "organisations database failed" in caplog.text and name not in caplog.text


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is installed by scripts/bootstrap.sh")
    with redis_server() as url:
        yield url


def test_replicas_share_organisation_budgets_through_redis(
        fx: VerifyFixture, pg_server: str, redis_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    name = f"orgs_{next(_databases)}"
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    database = pg_server.rsplit("/", 1)[0] + "/" + name
    redis.Redis.from_url(redis_url).flushdb()
    key_a = add_org(database, capsys, "A", "a@a.example")
    key_b = add_org(database, capsys, "B", "b@b.example")
    s = fx.statements[0]
    bad = credentials(s, wrong(s.entry.candidate.secret))
    settings = {"database_url": database, "redis_url": redis_url, "org_failures_per_id": 4}
    with TestClient(fx.app(**settings)) as one, TestClient(fx.app(**settings)) as two:
        for i in range(4):  # two failures on each replica
            assert check((one, two)[i % 2], key_a, bad)["match"] is False
        assert check(one, key_a, credentials(s))["match"] is False
        assert check(two, key_a, credentials(s))["match"] is False
        assert check(two, key_b, credentials(s))["match"] is True
        for _ in range(12):  # the anonymous limit, in the same Redis, locks the public path
            one.post("/api/verify", json=bad)
        assert one.post("/api/verify", json=credentials(s)).json()["match"] is False
        assert check(one, key_b, credentials(s))["match"] is True


def test_a_long_audit_log_streams_whole_and_rotation_checks_the_old_key(
        fx: VerifyFixture, database: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Any) -> None:
    key = add_org(database, capsys)
    store = OrgStore(database)
    caller = store.authenticate(hashlib.sha256(key.encode()).digest())
    assert caller is not None
    t0 = datetime(2026, 8, 20, 9, 0, tzinfo=UTC)
    store.record([AuditEntry(caller.org_id, t0 + timedelta(seconds=n), caller.key_id,
                             f"{n // 100:024x}", n % 100 + 1, None, "no_match")
                  for n in range(2500)])
    with pytest.raises(ConfigError, match="no live key"):
        store.rotate(caller.org_id, "notakey0", new_key(), t0)
    assert store.authenticate(hashlib.sha256(key.encode()).digest()) == caller
    store.close()
    with TestClient(fx.app(database_url=database)) as client:
        text = client.get("/api/v1/audit", headers=bearer(key)).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2500 and rows[0]["time"] == "2026-08-20T09:00:00+00:00"
    assert rows[-1]["time"] == (t0 + timedelta(seconds=2499)).isoformat()
    out = tmp_path / "audit.csv"
    assert main(["orgs", "audit", "1", "--out", str(out), "--database", database]) == 0
    assert out.read_bytes().decode() == text
