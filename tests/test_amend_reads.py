"""An amend reads what changed, not the whole series again, and still gives the full build.

After one changed result it renders, looks up history for, signs and reduces its
fonts to that one statement; an unchanged centre's statement files are carried as
they are, never opened.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from outputs import Series, change_mark, differences, example_series, files, readable
from release_support import read_rows

from results_online import crypto
from results_online.build import pipeline
from results_online.build.bundle.pdfjoin import Joiner
from results_online.build.bundle.rejoin import kept_path
from results_online.build.inputs.spool import Spool
from results_online.build.pipeline import build
from results_online.config import build_config
from results_online.index import IndexReader
from results_online.model import Statement

LATER = "2026-09-01T10:00:00+00:00"


def _build(series: Series, out: Path, *, amend: bool = False) -> None:
    build(build_config(str(series.folder), str(series.keys), str(out), now=LATER, workers=1),
          amend=amend)


@dataclass(frozen=True)
class Run:
    """The outputs of one amend and of the full rebuild it is compared with."""

    series: Series
    first: Path
    amended: Path
    rebuilt: Path
    changed: dict[str, str]  # the candidate whose result changed
    poisoned: dict[Path, int]  # files of an unchanged centre and their inodes in ``amended``
    calls: Counter[str]  # spool and index look-ups the amend made, and tokens it signed
    texts_of: list[str]  # candidates whose texts the reduced fonts were made from
    joined: int  # statements read (not copied from the kept statements.pdf) to join


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A build, one changed result, an amend (its reads counted) and a full rebuild."""
    tmp = tmp_path_factory.mktemp("reads")
    series = example_series(tmp)
    first = tmp / "first"
    _build(series, first)
    rows = read_rows(series.folder / "candidates.csv")
    changed = rows[0]
    other = next(r for r in rows if r["centre_number"] != changed["centre_number"])
    # Bytes no PDF reader opens: the amend must carry them without reading them.
    poisoned = sorted((first / "private" / "statements" / other["centre_number"]).glob("*.pdf"))
    for pdf in poisoned:
        pdf.unlink()
        pdf.write_bytes(b"not a PDF: an amend must not open me")
    folder = tmp / "changed"
    shutil.copytree(series.folder, folder)
    change_mark(folder, changed["candidate_id"])
    enquired = Series(folder, series.keys, series.identities)

    amended = tmp / "amended"
    shutil.copytree(first, amended, copy_function=os.link)
    inodes = {p: (amended / p.relative_to(first)).stat().st_ino for p in poisoned}
    calls: Counter[str] = Counter()
    texts_of: list[str] = []
    patch = pytest.MonkeyPatch()
    for owner, name in ((Spool, "previous_of"), (Spool, "previous_item"),
                        (IndexReader, "last_revision"), (crypto, "sign"), (Joiner, "add")):
        patch.setattr(owner, name, _counted(getattr(owner, name), name, calls))
    real_texts = pipeline.statement_texts

    def texts(s: Statement) -> Iterator[str]:
        texts_of.append(s.entry.candidate.candidate_id)
        return real_texts(s)

    patch.setattr(pipeline, "statement_texts", texts)
    try:
        _build(enquired, amended, amend=True)
    finally:
        patch.undo()

    rebuilt = tmp / "rebuilt"
    shutil.copytree(first, rebuilt)
    _build(enquired, rebuilt)
    return Run(enquired, first, amended, rebuilt, changed, inodes, calls, texts_of,
               calls["add"])


def _counted(f: Callable[..., Any], name: str, calls: Counter[str]) -> Callable[..., Any]:
    def wrapper(*args: object, **kwargs: object) -> Any:
        calls[name] += 1
        return f(*args, **kwargs)
    return wrapper


def test_the_amend_equals_a_full_rebuild(run: Run) -> None:
    centre = run.changed["centre_number"]
    # Other centres' bundles are the ones already sent (test_scale.py says why); the
    # poisoned files are carried as the first build left them, where a rebuild renders.
    others = {n: run.first for n in files(run.first)
              if n.endswith(".zip.age") and f"/{centre}/" not in n}
    others.update((p.relative_to(run.first).as_posix(), run.first) for p in run.poisoned)
    assert differences(run.amended, run.rebuilt, run.series, instead=others) == []


def test_an_unchanged_centres_statements_are_carried_unread(run: Run) -> None:
    assert run.poisoned
    for path, inode in run.poisoned.items():
        assert path.read_bytes().startswith(b"not a PDF")
        assert inode == (run.amended / path.relative_to(run.first)).stat().st_ino


def test_only_the_changed_statement_is_read_for_fonts_and_history(run: Run) -> None:
    assert run.texts_of == [run.changed["candidate_id"]]
    # One changed entry: one look into the index's history and one for its new id,
    # instead of a query (or two) for every entry of the series.
    assert run.calls["last_revision"] == 1
    assert run.calls["previous_of"] + run.calls["previous_item"] <= 1
    # Only its token is signed: the others keep the tokens their PDFs carry.
    assert run.calls["sign"] == 1


def test_the_changed_centres_statements_pdf_reads_only_the_changed_statement(run: Run) -> None:
    assert run.joined == 1  # the others are copied from the statements.pdf the build kept


def test_the_kept_statements_pdf_is_the_bundles(run: Run) -> None:
    centre = run.changed["centre_number"]
    bundle = run.amended / "private" / "c" / centre / "2026-06.zip.age"
    with zipfile.ZipFile(io.BytesIO(readable(run.amended, bundle.relative_to(run.amended)
                                             .as_posix(), run.series))) as zf:
        inside = zf.read("statements.pdf")
    assert kept_path(run.amended, centre, "2026-06").read_bytes() == inside
