"""The state one build leaves for the next: ``private/manifest.json``, one writer, one reader.

For every statement: its id, revision, who and which test, a hash of its results
(so a rebuild can tell which entries a results enquiry changed), its token (so a
rebuild keeps it without signing again) and where its files are, relative to the
output folder.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

from results_online.build.output import JsonText, iter_json_list, iter_json_texts, write_json_list
from results_online.build.verification.index import results_hash
from results_online.model import Statement

MANIFEST = "private/manifest.json"


@dataclass(frozen=True)
class ManifestItem:
    """One statement as the previous build left it."""

    statement_id: str
    revision: int
    key_id: str
    candidate_id: str
    candidate_number: str
    centre: str
    test: str
    token: bytes  # what it signed: an unchanged statement keeps it (b"" in an older manifest)
    issue_date: date
    results_hash: str
    series: str
    pdf: str  # relative to the output folder
    html: str


_FIELDS = fields(ManifestItem)


def item_for(s: Statement, pdf: str, html: str) -> ManifestItem:
    """The manifest item of a statement whose PDF and page are ``pdf`` and ``html``.

    Paths relative to the output folder, as strings: an amend carries 10,000s of
    statements whose items already hold them.
    """
    e = s.entry
    return ManifestItem(
        statement_id=s.statement_id, revision=e.revision, key_id=s.key_id,
        candidate_id=e.candidate.candidate_id, candidate_number=e.candidate.number,
        centre=s.centre.number, test=e.test.code, token=s.token,
        issue_date=s.issue_date, results_hash=results_hash(e), series=s.series.code,
        pdf=pdf, html=html)


def write_manifest(root: Path, items: Iterable[ManifestItem | JsonText]) -> None:
    """Write ``root/private/manifest.json`` for these items, streamed in the order given.

    A ``JsonText`` is an item's line in a previous manifest (``iter_manifest_lines``),
    written as it was.
    """
    write_json_list(root / MANIFEST, "statements",
                    (i if isinstance(i, JsonText) else _fields(i) for i in items),
                    ensure_ascii=False)


def _fields(item: ManifestItem) -> dict[str, object]:
    """The item as JSON values (``asdict`` deep-copies every value: slow at scale)."""
    out = {f.name: getattr(item, f.name) for f in _FIELDS}
    out["issue_date"] = item.issue_date.isoformat()
    out["token"] = base64.b64encode(item.token).decode()
    return out


def read_manifest(root: Path) -> tuple[ManifestItem, ...] | None:
    """The items of ``root``'s manifest, or None if it has none (or one from before history
    was kept); ValueError if damaged."""
    if not has_history(root):
        return None
    return tuple(iter_manifest(root))


def has_history(root: Path) -> bool:
    """Whether ``root`` has a manifest from a build that kept history (results hashes).

    Such a build wrote them for every item, so the first item tells.
    """
    path = root / MANIFEST
    if not path.is_file():
        return False
    first = next(iter_json_list(path, "statements"), None)
    return first is None or (isinstance(first, dict) and "results_hash" in first)


def iter_manifest(root: Path) -> Iterator[ManifestItem]:
    """The items of ``root``'s manifest one at a time, without the whole file in memory.

    ValueError if it is damaged (or from before history was kept: see ``has_history``).
    """
    for item, _ in iter_manifest_lines(root):
        yield item


def iter_manifest_lines(root: Path) -> Iterator[tuple[ManifestItem, JsonText]]:
    """``iter_manifest``'s items, each with its text in the file (``parse_item`` reads it)."""
    path = root / MANIFEST
    try:
        for raw, text in iter_json_texts(path, "statements"):
            yield _item(raw), text
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path} is damaged") from exc


def parse_item(text: str) -> ManifestItem:
    """The item of a manifest line from ``iter_manifest_lines``; ValueError if damaged."""
    try:
        return _item(json.loads(text))
    except (KeyError, TypeError) as exc:
        raise ValueError("a manifest item is damaged") from exc


def _item(raw: object) -> ManifestItem:
    if not isinstance(raw, dict):
        raise TypeError("a manifest item is not an object")
    text = {k: raw[k] for k in ("statement_id", "key_id", "candidate_id", "candidate_number",
                                "centre", "test", "results_hash", "series", "pdf", "html")}
    if not all(isinstance(v, str) for v in text.values()):
        raise TypeError("a manifest field is not text")
    revision, signed = raw["revision"], raw.get("token", "")
    if not isinstance(revision, int):
        raise TypeError("a manifest number is not an integer")
    if not isinstance(signed, str):
        raise TypeError("a manifest token is not text")
    return ManifestItem(**{k: str(v) for k, v in text.items()}, revision=revision,
                        token=base64.b64decode(signed, validate=True),
                        issue_date=date.fromisoformat(str(raw["issue_date"])))
