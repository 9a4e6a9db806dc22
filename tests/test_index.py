"""The verification index: a real SQLite file with only keyed hashes of IDs and secrets."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from results_online.build.verification.index import (
    results_hash,
    row_for,
    status_list,
    write_index,
    write_status_list,
)
from results_online.index import StatementStatus, candidate_hash, read_rows, secret_hash
from results_online.model import Statement
from tests.factories import cambridge_series, make_keys, seal_series, step_series


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[Statement, ...], bytes, Path]:
    tmp = tmp_path_factory.mktemp("index")
    keys = make_keys(tmp / "keys")
    fce = cambridge_series(per_centre=5, n_centres=1)
    fce = replace(fce, entries=tuple(  # distinct IDs from the STEP candidates
        replace(e, candidate=replace(e.candidate, candidate_id="F" + e.candidate.candidate_id))
        for e in fce.entries))
    statements = (*seal_series(step_series(per_centre=2, n_centres=2), keys),
                  *seal_series(fce, keys))
    path = tmp / "private" / "verify.sqlite"
    write_index(statements, keys.pepper, path)
    return statements, keys.pepper, path


def test_ids_secrets_and_pepper_never_stored_in_clear(built) -> None:
    statements, pepper, path = built
    data = path.read_bytes()
    assert data.startswith(b"SQLite format 3\x00")
    for s in statements:
        c = s.entry.candidate
        assert c.candidate_id.encode() not in data
        assert c.secret.encode() not in data
        assert candidate_hash(pepper, c.candidate_id) in data
    assert pepper not in data and pepper.hex().encode() not in data
    assert path.stat().st_mode & 0o077 == 0


def test_lookup_by_keyed_hash_gives_the_result_shown_on_a_match(built) -> None:
    statements, pepper, path = built
    s = statements[0]
    c = s.entry.candidate
    con = sqlite3.connect(path)
    rows = con.execute("SELECT secret_hash, status, display FROM statements "
                       "WHERE candidate_hash = ?", (candidate_hash(pepper, c.candidate_id),)
                       ).fetchall()
    assert len(rows) == 1
    stored, status, shown = rows[0]
    assert stored == secret_hash(pepper, c.candidate_id, c.secret)
    assert stored != secret_hash(pepper, c.candidate_id, str(int(c.secret) + 1).zfill(6))
    assert status == StatementStatus.VALID
    doc = json.loads(shown)
    assert doc["name"] == c.name and doc["statement_id"] == s.statement_id
    assert doc["test"] == s.entry.test.name and doc["series"] == s.series.name
    assert [r["code"] for r in doc["results"]] == [r.component.code for r in s.entry.components]
    assert [r["mark"] for r in doc["results"]] == [r.mark for r in s.entry.components]
    assert doc["issue_date"] == s.issue_date.isoformat()


def test_overall_result_of_cambridge_english_is_shown(built) -> None:
    statements, _, path = built
    fce = next(s for s in statements if s.entry.overall is not None
               and s.entry.overall.score is not None)
    row = next(r for r in read_rows(path) if r.statement_id == fce.statement_id)
    overall = json.loads(row.display)["overall"]
    assert overall["score"] == fce.entry.overall.score
    assert overall["cefr"] == fce.entry.overall.cefr


def test_a_different_pepper_matches_nothing(built, tmp_path: Path) -> None:
    statements, pepper, path = built
    other = bytes(b ^ 1 for b in pepper)
    c = statements[0].entry.candidate
    assert candidate_hash(other, c.candidate_id) not in path.read_bytes()


def test_retired_rows_round_trip_and_feed_a_status_list(built, tmp_path: Path) -> None:
    statements, pepper, _ = built
    old = replace(row_for(statements[0], pepper), status=StatementStatus.SUPERSEDED,
                  status_date=date(2026, 9, 14), superseded_by=statements[1].statement_id)
    path = tmp_path / "verify.sqlite"
    write_index(statements[1:], pepper, path, superseded=[old])
    rows = {r.statement_id: r for r in read_rows(path)}
    assert rows[old.statement_id] == old
    assert rows[statements[1].statement_id].status == StatementStatus.VALID
    public = tmp_path / "site" / "status" / "2026-06.json"
    write_status_list(public, list(rows.values()))
    doc = json.loads(public.read_text())
    assert doc == status_list(list(rows.values()))
    assert doc["statements"] == {old.statement_id: {"status": "superseded", "date": "2026-09-14"}}
    text = public.read_text()
    for s in statements:
        assert s.entry.candidate.name not in text
        assert s.entry.candidate.candidate_id not in text


def test_retired_row_must_not_be_current(built, tmp_path: Path) -> None:
    statements, pepper, _ = built
    with pytest.raises(ValueError, match="retired"):
        write_index(statements, pepper, tmp_path / "x.sqlite",
                    superseded=[row_for(statements[0], pepper)])


def test_results_hash_changes_only_when_results_change(built) -> None:
    statements, _, _ = built
    e = statements[0].entry
    assert results_hash(replace(e, revision=2)) == results_hash(e)
    changed = replace(e, components=(replace(e.components[0], mark=(e.components[0].mark or 0)
                                             + 1), *e.components[1:]))
    assert results_hash(changed) != results_hash(e)


def test_share_codes_are_stored_only_as_keyed_hashes(built) -> None:
    from results_online.index import share_hash

    statements, pepper, path = built
    rows = {r.statement_id: r for r in read_rows(path)}
    raw = path.read_bytes()
    for s in statements:
        assert s.share_code and s.share_code.encode() not in raw
        assert s.share_code.replace("-", "").encode() not in raw
        assert rows[s.statement_id].share_hash == share_hash(
            pepper, s.entry.candidate.candidate_id, s.share_code)
    with sqlite3.connect(path) as con:
        meta = dict(con.execute("SELECT key, value FROM meta"))
    assert meta["format"] == "2" and meta["shortest_secret"] == "6"
    assert (meta["budget_failures"], meta["budget_days"]) == ("10", "1")


def test_an_index_of_format_1_reads_with_no_share_codes(built, tmp_path: Path) -> None:
    import shutil

    _, _, path = built
    old = tmp_path / "old.sqlite"
    shutil.copy(path, old)
    with sqlite3.connect(old) as con:
        con.execute("ALTER TABLE statements DROP COLUMN share_hash")
    rows = read_rows(old)
    assert rows and all(r.share_hash == b"" for r in rows)
    assert [r.secret_hash for r in rows] == [r.secret_hash for r in read_rows(path)]
