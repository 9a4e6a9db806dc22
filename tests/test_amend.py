"""Supersession: a results enquiry changes a mark; `results amend` issues a new statement.

The old printed QR must then report "superseded" (with the new statement's date)
and the new one "valid", read back from the real PDFs by zxing-cpp.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from factories import EXAMPLES
from release_support import read_rows, write_rows
from starlette.testclient import TestClient

from results_online.build.pipeline import build
from results_online.config import app_config, build_config
from results_online.ids import id_to_text
from results_online.keys.store import init_keys
from results_online.keyset import load_keyset
from results_online.token import from_digits, verify_token
from results_online.verify_app.app import create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
EXAMPLE = EXAMPLES / "step-2026-06"
KEEP = 3  # candidates: enough to see carried and changed statements, quick to render


def _small_series(folder: Path) -> list[dict[str, str]]:
    shutil.copytree(EXAMPLE, folder)
    cands = read_rows(folder / "candidates.csv")[:KEEP]
    ids = {c["candidate_id"] for c in cands}
    write_rows(folder / "candidates.csv", cands)
    centres = {c["centre_number"] for c in cands}
    write_rows(folder / "centres.csv",
           [c for c in read_rows(folder / "centres.csv") if c["centre_number"] in centres])
    write_rows(folder / "results.csv",
           [r for r in read_rows(folder / "results.csv") if r["candidate_id"] in ids])
    return cands


def _change_mark(folder: Path, candidate_id: str) -> None:
    rows = read_rows(folder / "results.csv")
    row = next(r for r in rows if r["candidate_id"] == candidate_id and r["mark"].isdigit())
    row["mark"] = str(min(120, int(row["mark"]) + 20))
    row["grade"] = ""  # let the board's boundaries grade the new mark
    write_rows(folder / "results.csv", rows)


def _manifest(out: Path) -> dict[str, dict[str, object]]:
    items = json.loads((out / "private" / "manifest.json").read_text())["statements"]
    return {i["candidate_id"]: i for i in items}


def _qr_statement_id(pdf: Path, keys: Path) -> tuple[str, int]:
    """The statement id and revision in the QR printed on a PDF, after checking its signature."""
    page = pdfium.PdfDocument(pdf)[0]
    [code] = zxingcpp.read_barcodes(page.render(scale=3).to_pil(),
                                    formats=zxingcpp.BarcodeFormat.QRCode)
    data = verify_token(load_keyset(keys), from_digits(code.text.split("#", 1)[1]))
    return id_to_text(data.statement_id), data.revision


def _status(out: Path, keys: Path, statement_id: str) -> dict[str, object]:
    app = create_app(app_config(str(out / "private" / "verify.sqlite"), str(keys)))
    with TestClient(app) as client:
        answer = dict(client.post("/api/status", json={"statement_id": statement_id}).json())
    # Every known statement, retired or not, also names the centre printed on it.
    centre = answer.pop("centre", None)
    assert answer.get("status") == "unknown" or (
        isinstance(centre, dict) and centre["number"] and centre["name"])
    return answer


@pytest.fixture(scope="module")
def amended(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("amend")
    series, keys, out = tmp / "series", tmp / "keys", tmp / "out"
    cands = _small_series(series)
    init_keys(keys, date(2026, 8, 1))
    build(build_config(str(series), str(keys), str(out), now="2026-08-14T09:00:00+00:00",
                       workers=1))
    before = _manifest(out)
    changed = cands[1]
    old_pdf = tmp / "old.pdf"
    shutil.copy(out / str(before[changed["candidate_id"]]["pdf"]), old_pdf)
    unchanged_pdfs = {c["candidate_id"]: (out / str(before[c["candidate_id"]]["pdf"]))
                      .read_bytes() for c in cands if c is not changed}
    _change_mark(series, changed["candidate_id"])
    results = Path(sys.executable).with_name("results")
    done = subprocess.run(
        [str(results), "amend", str(series), "--keys", str(keys), "--out", str(out),
         "--now", "2026-09-01T10:00:00+00:00", "--workers", "1"],
        capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return {"series": series, "keys": keys, "out": out, "cands": cands, "changed": changed,
            "before": before, "after": _manifest(out), "old_pdf": old_pdf,
            "unchanged_pdfs": unchanged_pdfs, "stdout": done.stdout}


def test_only_the_changed_candidate_gets_a_new_revision_and_id(amended) -> None:
    before, after = amended["before"], amended["after"]
    cid = amended["changed"]["candidate_id"]
    assert "1 new statement(s) rendered" in amended["stdout"]
    assert after[cid]["revision"] == before[cid]["revision"] + 1
    assert after[cid]["statement_id"] != before[cid]["statement_id"]
    assert after[cid]["issue_date"] == "2026-09-01"
    for other, item in before.items():
        if other != cid:
            assert after[other]["statement_id"] == item["statement_id"]
            assert after[other]["issue_date"] == item["issue_date"]


def test_unchanged_statements_are_carried_over_not_re_rendered(amended) -> None:
    out = amended["out"]
    for cid, old_bytes in amended["unchanged_pdfs"].items():
        assert (out / amended["after"][cid]["pdf"]).read_bytes() == old_bytes


def test_old_qr_reports_superseded_and_new_qr_valid(amended) -> None:
    out, keys = amended["out"], amended["keys"]
    old_id, old_rev = _qr_statement_id(amended["old_pdf"], keys)
    new_pdf = out / amended["after"][amended["changed"]["candidate_id"]]["pdf"]
    new_id, new_rev = _qr_statement_id(new_pdf, keys)
    assert (old_rev, new_rev) == (1, 2) and old_id != new_id
    assert _status(out, keys, old_id) == {"statement_id": old_id, "status": "superseded",
                                          "date": "2026-09-01"}
    assert _status(out, keys, new_id) == {"statement_id": new_id, "status": "valid",
                                          "date": None}


def test_id_and_secret_now_show_the_changed_result(amended) -> None:
    out, keys, changed = amended["out"], amended["keys"], amended["changed"]
    new_mark = next(r["mark"] for r in read_rows(amended["series"] / "results.csv")
                    if r["candidate_id"] == changed["candidate_id"])
    app = create_app(app_config(str(out / "private" / "verify.sqlite"), str(keys)))
    with TestClient(app) as client:
        body = client.post("/api/verify", json={"candidate_id": changed["candidate_id"],
                                                "secret_number": changed["secret_number"]}
                           ).json()
    [shown] = body["statements"]
    assert shown["revision"] == 2 and shown["status"] == "valid"
    assert int(new_mark) in [r["mark"] for r in shown["results"]]


def test_public_status_list_names_only_ids_and_statuses(amended) -> None:
    out = amended["out"]
    old_id = amended["before"][amended["changed"]["candidate_id"]]["statement_id"]
    doc = json.loads((out / "site" / "status" / "2026-06.json").read_text())
    assert doc["statements"] == {old_id: {"status": "superseded", "date": "2026-09-01"}}
    text = (out / "site" / "status" / "2026-06.json").read_text()
    for c in amended["cands"]:
        for value in (c["candidate_id"], c["name"], c["secret_number"]):
            assert value not in text


def test_a_full_rebuild_keeps_history_and_a_removed_entry_is_withdrawn(amended) -> None:
    series, keys, out = amended["series"], amended["keys"], amended["out"]
    gone = amended["cands"][2]
    for name in ("candidates.csv", "results.csv"):
        write_rows(series / name, [r for r in read_rows(series / name)
                               if r["candidate_id"] != gone["candidate_id"]])
    report = build(build_config(str(series), str(keys), str(out),
                                now="2026-09-05T10:00:00+00:00", workers=1))
    assert report.rendered == KEEP - 1 and report.retired == 2
    old_changed = amended["before"][amended["changed"]["candidate_id"]]["statement_id"]
    assert _status(out, keys, old_changed)["status"] == "superseded"
    gone_id = amended["before"][gone["candidate_id"]]["statement_id"]
    assert _status(out, keys, gone_id) == {"statement_id": gone_id, "status": "withdrawn",
                                           "date": "2026-09-05"}
    assert amended["after"][amended["changed"]["candidate_id"]]["statement_id"] in {
        str(i["statement_id"]) for i in _manifest(out).values()}
    app = create_app(app_config(str(out / "private" / "verify.sqlite"), str(keys)))
    with TestClient(app) as client:
        body = client.post("/api/verify", json={"candidate_id": gone["candidate_id"],
                                                "secret_number": gone["secret_number"]}
                           ).json()
    assert [s["status"] for s in body["statements"]] == ["withdrawn"]


def test_amend_without_a_previous_build_is_refused(tmp_path: Path, amended) -> None:
    results = Path(sys.executable).with_name("results")
    done = subprocess.run(
        [str(results), "amend", str(amended["series"]), "--keys", str(amended["keys"]),
         "--out", str(tmp_path / "empty")], capture_output=True, text=True, check=False,
        timeout=120)
    assert done.returncode == 1 and "no previous build" in done.stderr
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").iterdir())
