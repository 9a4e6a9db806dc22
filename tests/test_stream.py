"""A streamed build holds what the in-memory stages say it must, and holds little at once.

The larger series is written to disk: the STEP example's settings, 48 candidates listed
across four centres in turn (so the file's order is not the centres' order) and
results.csv shuffled (so a candidate's rows lie far apart). The expectations come from
loading and sealing the same folder in memory (``load_series``, ``seal_series``) and
from the stages' own functions for one statement (``row_for``, ``candidate_links``).
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pyrage
import pytest
from factories import NAMES, NOW, make_keys, step_series
from outputs import Series, example_series, files
from release_support import read_rows, write_rows

from results_online.build.bundle.overview import statement_pdf_name
from results_online.build.inputs.load import load_series
from results_online.build.manifest import read_manifest
from results_online.build.output import iter_json_list, iter_json_texts, write_json_list
from results_online.build.pipeline import build
from results_online.build.release.outbox import candidate_links, read_outbox
from results_online.build.release.plan import PLAN_FILE, Kind, read_plan
from results_online.build.render.statements import RenderedStatement, render_stream
from results_online.build.verification.index import row_for
from results_online.build.verification.seal import seal_series
from results_online.config import build_config
from results_online.index import read_rows as index_rows
from results_online.keys.store import load_keys
from results_online.model import Statement
from results_online.names import blob_path, bundle_path
from results_online.progress import no_progress

N, CENTRES = 48, 4
BUILT_AT = "2026-08-13T07:30:00+00:00"  # both releases due: bundles and blobs in site/


def _larger(tmp: Path) -> Series:
    base = example_series(tmp)
    identities = {f"C{c:02d}": pyrage.x25519.Identity.generate() for c in range(CENTRES)}
    write_rows(base.folder / "centres.csv", [
        {"centre_number": number, "centre_name": f"Centre {number}",
         "email": f"exams{number}@example.org", "recipients": str(identity.to_public())}
        for number, identity in identities.items()])
    candidates, results = [], []
    for i in range(N):
        cid = f"T{i:05d}"
        candidates.append({"candidate_id": cid, "centre_number": f"C{i % CENTRES:02d}",
                           "candidate_number": f"{i // CENTRES + 1:04d}",
                           "name": NAMES[i % len(NAMES)], "email": f"c{i}@example.org",
                           "secret_number": f"{i * 7919 % 10**8:08d}"[: 5 + i % 4]})
        marks = (str(30 + i * 37 % 91), "X" if i % 11 == 3 else str(20 + i * 53 % 101))
        results += [{"candidate_id": cid, "test": "STEP", "component": paper, "mark": mark,
                     "grade": "", "cefr": ""} for paper, mark in zip(("9470", "9475"), marks,
                                                                     strict=True)]
    random.Random(7).shuffle(results)
    write_rows(base.folder / "candidates.csv", candidates)
    write_rows(base.folder / "results.csv", results)
    return Series(base.folder, base.keys, identities)


@pytest.fixture(scope="module")
def larger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Series, Path, list[Statement]]:
    tmp = tmp_path_factory.mktemp("stream")
    series = _larger(tmp)
    out = tmp / "out"
    build(build_config(str(series.folder), str(series.keys), str(out), now=BUILT_AT,
                       workers=2, batch_size=5))
    expected = list(seal_series(load_series(series.folder), load_keys(series.keys)))
    return series, out, expected


def test_the_manifest_and_index_hold_every_statement_in_series_order(
        larger: tuple[Series, Path, list[Statement]]) -> None:
    series, out, expected = larger
    assert len(expected) == N
    manifest = read_manifest(out)
    assert manifest is not None
    assert [i.statement_id for i in manifest] == [s.statement_id for s in expected]
    assert [i.centre for i in manifest] == sorted(i.centre for i in manifest)
    pepper = load_keys(series.keys).pepper
    assert sorted(index_rows(out / "private" / "verify.sqlite"),
                  key=lambda r: r.statement_id) == sorted(
        (row_for(s, pepper) for s in expected), key=lambda r: r.statement_id)
    assert not [n for n in files(out) if "spool" in n or "history" in n]  # build-time only
    assert not list(out.parent.glob(f".{out.name}.*"))  # no staging left beside it


def test_links_and_outbox_list_every_candidate_once_in_series_order(
        larger: tuple[Series, Path, list[Statement]]) -> None:
    series, out, expected = larger
    secret = load_keys(series.keys).statement_secret
    text = (out / "private" / "links.csv").read_bytes().decode("utf-8")
    assert text.startswith("\ufeffcandidate_id,")
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))[1:]
    assert rows == [[link.candidate_id, link.name, link.email, link.test, link.statement_id,
                     link.link] for link in candidate_links(expected, secret)]
    items = read_outbox(out / "private")
    firsts = list(dict.fromkeys(s.entry.candidate.candidate_id for s in expected))
    first_id = {}
    for s in expected:
        first_id.setdefault(s.entry.candidate.candidate_id, s.statement_id)
    assert [i.file for i in items if i.kind == "candidate"] == [
        f"candidate-{first_id[cid]}.eml" for cid in firsts]
    assert [i.file for i in items if i.kind == "centre"] == [
        f"centre-C{c:02d}.eml" for c in range(CENTRES)]
    assert all((out / "private" / "outbox" / i.file).is_file() for i in items)


def test_each_bundle_holds_its_centres_statements_and_the_plan_every_blob(
        larger: tuple[Series, Path, list[Statement]]) -> None:
    series, out, expected = larger
    for number, identity in series.identities.items():
        path = out / "site" / bundle_path(number, "2026-06")
        with zipfile.ZipFile(io.BytesIO(pyrage.decrypt(path.read_bytes(), [identity]))) as z:
            names = set(z.namelist())
        mine = [s for s in expected if s.centre.number == number]
        assert len(mine) == N // CENTRES
        assert {statement_pdf_name(s) for s in mine} <= names
    plan = read_plan(out / "private" / PLAN_FILE)
    blobs = [f.path for f in plan.files if f.kind is Kind.CANDIDATE]
    assert blobs == sorted(blob_path(s.statement_id) for s in expected)
    assert all((out / f.source).is_file() for f in plan.files)


def test_rendering_draws_only_a_few_batches_ahead_of_the_workers(tmp_path: Path) -> None:
    series = step_series(per_centre=4, n_centres=2)
    statements = seal_series(series, make_keys(tmp_path / "keys"))
    drawn, done, ahead = [0], [0], [0]

    def batches() -> object:
        for s in statements:
            drawn[0] += 1
            ahead[0] = max(ahead[0], drawn[0] - done[0])
            yield [s]

    def on_batch(made: Sequence[RenderedStatement]) -> None:
        done[0] += len(made)
        assert all(r.pdf.is_file() for r in made)

    render_stream(batches(), (s.entry.candidate.name for s in statements),  # type: ignore[arg-type]
                  tmp_path / "out", total=len(statements), workers=2,
                  progress=no_progress, now=NOW, on_batch=on_batch)
    assert done[0] == len(statements) == 8
    assert ahead[0] <= 2 * 2 + 1  # two per worker in flight, and the one being drawn


def test_results_in_any_order_load_as_in_file_order(tmp_path: Path) -> None:
    series = example_series(tmp_path)
    before = load_series(series.folder)
    rows = read_rows(series.folder / "results.csv")
    random.Random(3).shuffle(rows)
    write_rows(series.folder / "results.csv", rows)
    assert load_series(series.folder) == before


@pytest.mark.parametrize("items", [[], [{"a": 1, "b": ["é\n", {}], "c": None}, [2, []]]])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_a_streamed_json_list_has_one_item_a_line_and_reads_back_item_by_item(
        tmp_path: Path, items: list[object], ascii_only: bool) -> None:
    path = tmp_path / "a.json"
    write_json_list(path, "files", iter(items), ensure_ascii=ascii_only)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"files": items}
    lines = text.splitlines()[1:-1]
    assert [json.loads(line.removesuffix(",")) for line in lines if line] == items
    assert ("é" in text) == (bool(items) and not ascii_only)
    assert list(iter_json_list(path, "files")) == items
    head = {"series": "2026-06", "nested": {"x": [1, 2]}}
    write_json_list(path, "files", iter(items), head=head)
    assert json.loads(path.read_text(encoding="utf-8")) == {**head, "files": items}


def test_items_read_with_their_text_are_written_back_byte_for_byte(tmp_path: Path) -> None:
    items = [{"name": "Zoë 山田", "n": i, "nested": [i, {"k": None}]} for i in range(3)]
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    write_json_list(first, "statements", iter(items), ensure_ascii=False)
    read = list(iter_json_texts(first, "statements"))
    assert [item for item, _ in read] == items
    assert all(json.loads(text) == item for item, text in read)
    # One item re-encoded, the others carried as their text: the same file.
    write_json_list(second, "statements", [read[0][1], items[1], read[2][1]],
                    ensure_ascii=False)
    assert second.read_bytes() == first.read_bytes()
