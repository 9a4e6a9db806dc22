"""Share codes: derived like the link key, printed on the statement and in the e-mail,
accepted by the app; and the build's bound on guessing secret numbers."""

from __future__ import annotations

import email
import json
import logging
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from pdfcheck import pdf_text
from starlette.testclient import TestClient

from results_online.build.pipeline import guess_bound
from results_online.config import app_config
from results_online.ids import SHARE_CODE_CHARS, parse_share_code, share_code
from results_online.index import SecretBudget, secret_budget
from results_online.keys.store import load_keys
from results_online.verify_app.app import create_app
from tests import release_support as rs

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> rs.SmallBuild:
    return rs.small_build(tmp_path_factory.mktemp("share"))


def _manifest(built: rs.SmallBuild) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = json.loads(
        (built.out / "private" / "manifest.json").read_text())["statements"]
    return rows


def test_share_codes_are_100_bits_grouped_and_stable() -> None:
    secret = bytes(range(32))
    code = share_code(secret, "ABCDEFGHJKMNPQRS")
    groups = code.split("-")
    assert [len(g) for g in groups] == [4] * 5 and set("".join(groups)) <= CROCKFORD
    assert SHARE_CODE_CHARS * 5 >= 100  # at least 80 bits, as the design asks
    assert share_code(secret, "ABCDEFGHJKMNPQRS") == code  # a rebuild keeps it
    assert share_code(secret, "ABCDEFGHJKMNPQRT") != code
    assert share_code(bytes(32), "ABCDEFGHJKMNPQRS") != code
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert parse_share_code(typed) == code
    assert parse_share_code(code[:-1]) is None and parse_share_code(code + "U") is None


def test_the_statement_and_the_e_mail_carry_the_share_code_the_app_accepts(
        built: rs.SmallBuild) -> None:
    secret = load_keys(built.keys).statement_secret
    rows = _manifest(built)
    codes = {r["statement_id"]: share_code(secret, r["statement_id"]) for r in rows}
    statements = built.out / "private" / "statements"
    pdfs = sorted(statements.rglob("*.pdf"))
    pages = sorted(statements.rglob("*[0-9A-Z]-*.html"))
    assert pdfs and pages
    texts = [pdf_text(p) for p in pdfs]
    for sid, code in codes.items():
        assert sum(code in t for t in texts) == 1, sid
        assert any(code in p.read_text(encoding="utf-8") for p in pages)
    outbox = built.out / "private" / "outbox"
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in sorted(outbox.glob("candidate-*.eml"))]
    seen = set()
    for msg in mails:
        assert isinstance(msg, EmailMessage)
        text = str(msg.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
        html = str(msg.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
        here = {c for c in codes.values() if c in text}
        assert here and all(c in html for c in here)
        assert "share code rather" in text  # candidates are told to prefer it
        seen |= here
    assert seen == set(codes.values())
    app = create_app(app_config(str(built.out / "private" / "verify.sqlite"), str(built.keys)))
    by_id = {c["candidate_id"]: c for c in built.candidates}
    with TestClient(app) as client:
        for row in rows:
            cid = next(c for c in by_id if any(
                codes[row["statement_id"]] in str(m.get_body(
                    preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
                and by_id[c]["email"] == m["To"].addresses[0].addr_spec for m in mails))
            r = client.post("/api/verify", json={"candidate_id": cid,
                                                 "share_code": codes[row["statement_id"]]})
            assert r.json()["match"] is True
            assert [s["statement_id"] for s in r.json()["statements"]] == [row["statement_id"]]


@pytest.mark.parametrize(("digits", "bound"), [(4, 0.01), (5, 0.01), (6, 0.01), (8, 0.01)])
def test_the_budget_keeps_a_guesser_under_one_percent_a_year(digits: int, bound: float) -> None:
    budget = secret_budget(digits)
    assert budget.chance(digits) < bound
    assert budget.failures >= 1 and budget.failures <= 10
    # a moving window of N per D days never lets more than N * ceil(365 / D) through a year
    assert budget.per_year() < bound * 10 ** digits


def test_the_build_states_the_bound_and_warns_above_one_percent(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    line = guess_bound(secret_budget(4), 4)
    assert "4 digits" in line and "%" in line and "WARNING" not in line
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    loud = guess_bound(SecretBudget(10, 1), 4)  # 3,650 guesses a year against 10,000
    assert "36.50%" in loud and "WARNING" in loud
    assert [r for r in caplog.records if r.levelno == logging.WARNING]


def test_the_cli_build_prints_the_bound(built: rs.SmallBuild, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from results_online.commands.main import main

    out = tmp_path / "out"
    assert main(["build", str(built.out.parent / "series"), "--keys", str(built.keys),
                 "--out", str(out), "--now", rs.BEFORE_ANY, "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "secret numbers: shortest" in printed and "chance per ID per year" in printed
