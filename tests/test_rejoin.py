"""A statements.pdf made again from the kept one is the fresh join, reading only what changed.

The sources share font subsets and the colour profile (stored once in the joined
file), one has two pages and one is untagged, so every kind of part is copied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from weasyprint import HTML

from results_online.build.bundle import pdfjoin
from results_online.build.bundle import rejoin as rejoin_module
from results_online.build.bundle.pdfjoin import Joined, Joiner, Part, join_parts
from results_online.build.bundle.rejoin import read_kept, rejoin, write_kept
from results_online.build.render.weasy import metadata

BEFORE = metadata(title="Statements of Results: June 2026, centre GB001", author="Board",
                  lang="en", created=datetime(2026, 8, 1, 9, 0, tzinfo=UTC))
AFTER = metadata(title="Statements of Results: June 2026, centre GB001", author="Board",
                 lang="en", created=datetime(2026, 9, 1, 10, 0, tzinfo=UTC))


def _pdf(name: str, mark: int, *, pages: int = 1, tagged: bool = True) -> bytes:
    breaks = "<p style='break-before: page'>continued</p>" * (pages - 1)
    html = (f"<html lang='en'><title>{name}</title><h1>Candidate {name}</h1><table><tr>"
            f"<th id='paper'>Paper</th><td>{mark}</td></tr></table>{breaks}")
    pdf = HTML(string=html).write_pdf(pdf_tags=tagged, pdf_variant="pdf/a-3u")
    assert isinstance(pdf, bytes)
    return pdf


@pytest.fixture(scope="module")
def sources() -> list[bytes]:
    return [_pdf("Ann", 51), _pdf("Bo", 62, pages=2), _pdf("Cy", 73), _pdf("Di", 84, tagged=False),
            _pdf("Ed", 95)]


@pytest.fixture(scope="module")
def kept(sources: list[bytes], tmp_path_factory: pytest.TempPathFactory) -> Joined:
    root = tmp_path_factory.mktemp("kept")
    write_kept(root, "GB001", "2026-06", join_parts(sources, BEFORE))
    found = read_kept(root, "GB001", "2026-06")
    assert found is not None
    return found


def _reading(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The sources the joiner reads from their own bytes (not copied from the kept file)."""
    read: list[bytes] = []
    add = Joiner.add

    def counted(self: Joiner, data: bytes, *known: str | None) -> Part:
        read.append(data)
        return add(self, data, *known)

    monkeypatch.setattr(Joiner, "add", counted)
    return read


CHANGES: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "only the date": lambda s: s,
    "a result in the middle": lambda s: [*s[:2], _pdf("Cy", 74), *s[3:]],
    "the first statement": lambda s: [_pdf("Ann", 50), *s[1:]],
    "the two-page statement": lambda s: [s[0], _pdf("Bo", 60, pages=2), *s[2:]],
    "a statement gone": lambda s: [*s[:1], *s[2:]],
    "a statement added last": lambda s: [*s, _pdf("Flo", 40)],
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_rejoined_file_is_the_fresh_join(change: str, sources: list[bytes], kept: Joined,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    now = CHANGES[change](list(sources))
    fresh = join_parts(now, AFTER)
    read = _reading(monkeypatch)
    again = rejoin(kept, now, AFTER)
    assert again.pdf == fresh.pdf
    assert again.parts == fresh.parts
    if change != "a statement gone":  # the statements after the gone one moved: read again
        assert set(read) == set(now) - set(sources)


def test_a_changed_statement_is_read_and_the_others_copied(sources: list[bytes], kept: Joined,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    now = [*sources[:2], _pdf("Cy", 75), *sources[3:]]
    read = _reading(monkeypatch)
    rejoin(kept, now, AFTER)
    assert read == [now[2]]


def test_each_statement_is_hashed_once(sources: list[bytes], kept: Joined,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[bytes] = []
    real = pdfjoin.digest

    def counted(data: bytes) -> str:
        hashed.append(data)
        return real(data)

    for module in (pdfjoin, rejoin_module):
        monkeypatch.setattr(module, "digest", counted)
    now = [*sources[:2], _pdf("Cy", 76), *sources[3:]]  # one read, the others copied
    for previous in (kept, None):
        hashed.clear()
        rejoin(previous, now, AFTER)
        assert hashed == now


def test_without_a_kept_file_every_statement_is_read(sources: list[bytes], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_kept(tmp_path, "GB001", "2026-06") is None
    write_kept(tmp_path, "GB001", "2026-06", Joined(b"", ()))
    for record in tmp_path.rglob("*.json"):
        record.write_text("{not json", encoding="utf-8")
    assert read_kept(tmp_path, "GB001", "2026-06") is None
    write_kept(tmp_path, "GB001", "2026-06", join_parts(sources, BEFORE))
    for pdf in tmp_path.rglob("*.pdf"):
        pdf.write_bytes(pdf.read_bytes()[:-100])  # cut short: not the file its record names
    assert read_kept(tmp_path, "GB001", "2026-06") is None
    fresh = join_parts(sources, AFTER)
    read = _reading(monkeypatch)
    assert rejoin(None, sources, AFTER).pdf == fresh.pdf
    assert read == sources


def test_the_kept_file_is_the_joined_file(sources: list[bytes], kept: Joined) -> None:
    assert kept.pdf == join_parts(sources, BEFORE).pdf
    assert [p.digest for p in kept.parts] == [pdfjoin.digest(s) for s in sources]
    assert [p.pages for p in kept.parts] == [1, 2, 1, 1, 1]
