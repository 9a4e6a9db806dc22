"""A centre's statements.pdf made again from the previous one, reading only the changed statements.

An amend changes a few statements of a centre, and joining all of them again was
most of its bundle's cost. The build keeps each centre's joined file (unsealed) and
where each statement sits in it (``Part``) in ``private/joined/``: the previous
bundle is encrypted to the centre, which the build cannot open. A statement whose
bytes are those the kept file holds at the same place is copied from that file (no
parse of its own file, no walk of its structure to renumber); the others are read.

The result is byte for byte what joining every statement afresh gives: the kept
parts are copied in the same order, with the same keys and element ids, so qpdf
makes and numbers the same objects (``Joiner``). A statement that moved (one before
it added or withdrawn) is read again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from io import BytesIO
from pathlib import Path

from pikepdf import Name, Object, Pdf
from weasyprint.document import DocumentMetadata

from results_online.build.bundle.pdfjoin import Joined, Joiner, Part, copy_all, copy_object, digest
from results_online.build.output import carry
from results_online.names import bundle_path

JOINED = Path("private", "joined")  # in the output: <centre>/<series>.pdf and .json
_FORMAT = 1


@dataclass(frozen=True)
class Joins:
    """Where a build keeps its centres' joined statements, and where the previous build did."""

    into: Path  # the output being made
    previous: Path | None = None  # the previous output (an amend), to copy unchanged parts from


def kept_path(root: Path, centre: str, series_code: str) -> Path:
    """Where the joined statements of a centre are kept under the output ``root``."""
    return root / JOINED / bundle_path(centre, series_code).removeprefix("c/").replace(
        ".zip.age", ".pdf")


def read_kept(root: Path, centre: str, series_code: str) -> Joined | None:
    """The centre's joined statements kept in the output ``root``, or None (none, or unreadable)."""
    pdf = kept_path(root, centre, series_code)
    try:
        record = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
        data = pdf.read_bytes() if record.get("format") == _FORMAT else b""
        if digest(data) != record.get("digest"):
            return None  # not the file the record describes
        return Joined(data, tuple(Part(**p) for p in record["parts"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None  # joined afresh: only slower


def write_kept(root: Path, centre: str, series_code: str, joined: Joined) -> None:
    """Keep the centre's joined statements in the output ``root`` for the next amend."""
    pdf = kept_path(root, centre, series_code)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    for path in (pdf, pdf.with_suffix(".json")):
        path.unlink(missing_ok=True)  # a file carried there is the previous output's too
    pdf.write_bytes(joined.pdf)
    record = {"format": _FORMAT, "digest": digest(joined.pdf),
              "parts": [asdict(p) for p in joined.parts]}
    pdf.with_suffix(".json").write_text(json.dumps(record, separators=(",", ":")),
                                        encoding="utf-8")


def carry_kept(old: Path, out: Path, centres: Sequence[str], series_code: str) -> None:
    """Link the kept joins of ``centres`` (bundles carried unchanged) from ``old`` into ``out``."""
    for centre in centres:
        pdf = kept_path(old, centre, series_code)
        if pdf.is_file() and pdf.with_suffix(".json").is_file():
            for path in (pdf, pdf.with_suffix(".json")):
                carry(path, out / path.relative_to(old))


def rejoin(kept: Joined | None, sources: Sequence[bytes], meta: DocumentMetadata) -> Joined:
    """``join_parts`` of ``sources``; what ``kept`` holds at the same place is copied from it."""
    parts = kept.parts if kept is not None else ()
    digests = [digest(data) for data in sources]  # once each: compared here, kept in the parts
    same = [i < len(parts) and parts[i].digest == d for i, d in enumerate(digests)]
    # Opening the kept file costs about what joining 30 statements does.
    previous = _Previous(kept.pdf) if kept is not None and 2 * sum(same) >= len(sources) else None
    joiner = Joiner()
    at = _Offsets()
    for number, (data, data_digest) in enumerate(zip(sources, digests, strict=True)):
        if previous is not None and same[number] and at.matches(joiner):
            previous.copy_into(joiner, parts[number], at)
        else:
            joiner.add(data, data_digest)
        if number < len(parts):
            at.advance(parts[number])
    try:
        return joiner.finish(meta)
    finally:  # only now: qpdf reads the copied streams from it as it writes
        if previous is not None:
            previous.pdf.close()


class _Offsets:
    """Where the next part of the kept file begins: its first page, key and element."""

    def __init__(self) -> None:
        self.page = self.key = self.kid = 0

    def matches(self, joiner: Joiner) -> bool:
        """Whether the joiner has made just as much so far (so the part lands at the same place)."""
        return (len(joiner.out.pages), joiner.next_key, len(joiner.document.K)) == (
            self.page, self.key, self.kid)

    def advance(self, part: Part) -> None:
        self.page, self.key, self.kid = (self.page + part.pages, self.key + part.keys,
                                         self.kid + part.kids)


class _Previous:
    """The kept file, opened, with its structure read into lists once."""

    def __init__(self, data: bytes) -> None:
        self.pdf = Pdf.open(BytesIO(data))
        root = self.pdf.Root.get("/StructTreeRoot")
        self.kids: list[Object] = [] if root is None else list(root.K[0].K)
        nums = [] if root is None else list(root.ParentTree.Nums)
        self.values = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        names = [] if root is None or "/IDTree" not in root else list(root.IDTree.Names)
        self.ids: dict[str, list[tuple[str, Object]]] = {}
        for i in range(0, len(names), 2):
            name = str(names[i])
            self.ids.setdefault(name.split("-", 1)[0], []).append((name, names[i + 1]))

    def copy_into(self, joiner: Joiner, part: Part, at: _Offsets) -> None:
        """Copy ``part`` (found at ``at``) as ``Joiner.add`` would have made it, in its order."""
        out, number = joiner.out, len(joiner.parts)
        out.pages.extend(self.pdf.pages[at.page:at.page + part.pages])
        if number == 0 and "/OutputIntents" in self.pdf.Root:
            out.Root.OutputIntents = copy_object(out, self.pdf.Root.OutputIntents)
        for kid in self.kids[at.kid:at.kid + part.kids]:
            del kid[Name.P]  # the kept file's Document element: not to be dragged along
            copied = copy_object(out, kid)
            copied.P = joiner.document
            joiner.document.K.append(copied)
        ids = self.ids.get(f"s{number}", [])
        joiner.ids += zip((name for name, _ in ids), copy_all(out, self.pdf, [r for _, r in ids]),
                          strict=True)
        keys = [k for k in range(at.key, at.key + part.keys) if k in self.values]
        for key, copied in zip(keys, copy_all(out, self.pdf, [self.values[k] for k in keys]),
                               strict=True):
            joiner.nums += [key, copied]
        joiner.next_key += part.keys
        joiner.parts.append(part)

