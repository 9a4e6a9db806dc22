"""Stage: the release plan, which public file goes live when (private/release-plan.json).

Centre bundles go live at the centres' release time, candidate files (statement
ciphertext) at the candidates' release time, and both are withdrawn once the
available-until date has passed. A page may have a "before release" version
(forthcoming results), live until the candidates' release, and an "after
release" version from then on. Other pages are always live. A file that is not
live when the build runs stays out of site/ (in private/, e.g. private/c/ or
private/staged/<kind>/) until `results publish` finds it due.
"""

from __future__ import annotations

import enum
import heapq
import json
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path, PurePosixPath

from results_online.build.output import carry, write_json_list
from results_online.dates import start_of_day_after
from results_online.errors import BuildError
from results_online.model import SeriesInfo
from results_online.names import BLOB_FOLDER

PLAN_FILE = "release-plan.json"
STAGED_DIR = "private/staged"
SITE_DIR = "site"
BEFORE_SUFFIX = ".before-release"


class Kind(enum.StrEnum):
    """When a kind of public file may be live."""

    PAGE = "page"  # always: pages, assets, the keyset, status lists
    BEFORE_RELEASE = "before_release"  # until the candidates' release ("forthcoming results")
    AFTER_RELEASE = "after_release"  # from the candidates' release on: a page's released version
    CANDIDATE = "candidate"  # candidates' release until withdrawal: s/<id>.bin and such
    CENTRE_BUNDLE = "centre_bundle"  # centres' release until withdrawal: c/<centre>/…zip.age


@dataclass(frozen=True)
class PublicFile:
    """A file a stage wrote for the public site: its site path, kind and where it lies in OUT."""

    path: str  # relative to the site root, '/'-separated: "c/GB001/2026-06.zip.age"
    kind: Kind
    source: str  # relative to OUT, where the stage wrote it: "private/c/GB001/2026-06.zip.age"


@dataclass(frozen=True)
class PlannedFile:
    """One public file with its live window; ``source`` is where it lies once placed."""

    path: str
    kind: Kind
    # site/<path> when live at build time; else where a private stage wrote it, or
    # private/staged/<kind>/<path> for a file taken out of site/
    source: str
    live_from: datetime | None  # None: from the start
    live_until: datetime | None  # None: for good

    def live(self, now: datetime) -> bool:
        """Whether this file belongs on the public site at ``now``."""
        started = self.live_from is None or now >= self.live_from
        return started and (self.live_until is None or now < self.live_until)


@dataclass(frozen=True)
class ReleasePlan:
    """Which public file goes live when, for one series."""

    series: str
    built_at: datetime
    centres_release: datetime
    candidates_release: datetime
    withdraw_at: datetime  # the start of the day after available_until
    files: tuple[PlannedFile, ...]


def withdrawal_time(info: SeriesInfo) -> datetime:
    """When statements leave the site: midnight after available_until, in the board's zone."""
    return start_of_day_after(info.available_until, info.zone)


def plan_release(info: SeriesInfo, files: Sequence[PublicFile], now: datetime) -> ReleasePlan:
    """The release plan for these public files, placed as they should be at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    withdraw = withdrawal_time(info)
    windows: dict[Kind, tuple[datetime | None, datetime | None]] = {
        Kind.PAGE: (None, None),
        Kind.BEFORE_RELEASE: (None, info.candidates_release),
        Kind.AFTER_RELEASE: (info.candidates_release, None),
        Kind.CANDIDATE: (info.candidates_release, withdraw),
        Kind.CENTRE_BUNDLE: (info.centres_release, withdraw),
    }
    planned = []
    for f in files:
        _check_path(f.path)
        start, end = windows[f.kind]
        p = PlannedFile(f.path, f.kind, "", start, end)
        if p.live(now):
            source = f"{SITE_DIR}/{f.path}"
        elif f.source.startswith("private/"):
            source = f.source  # already private, e.g. bundles in private/c/
        else:
            # A path may have one file per kind (a page before and after release):
            # staged copies are kept apart by kind.
            source = f"{STAGED_DIR}/{f.kind.value}/{f.path}"
        planned.append(PlannedFile(f.path, f.kind, source, start, end))
    _check_no_overlap(planned)
    return ReleasePlan(info.code, now, info.centres_release, info.candidates_release, withdraw,
                       tuple(sorted(planned, key=lambda p: (p.path, p.source))))


def site_files(out: Path, *, blobs: bool = True) -> list[PublicFile]:
    """Every file under OUT/site, its kind read from its path (s/, c/, else a page).

    A page's forthcoming-results version is written beside it with the suffix
    ``.before-release`` (``index.html.before-release``): it is live until the
    candidates' release, and the page itself from then on. ``blobs=False`` leaves
    out the statements' ciphertext in s/ (``release_streamed`` takes them as a stream).
    """
    site = out / SITE_DIR
    tops = site.iterdir() if site.is_dir() else iter(())
    found = (p for top in tops if blobs or top.name != BLOB_FOLDER
             for p in ([top] if top.is_file() else top.rglob("*")))
    rels = sorted(p.relative_to(site).as_posix() for p in found if p.is_file())
    before = {r.removesuffix(BEFORE_SUFFIX) for r in rels if r.endswith(BEFORE_SUFFIX)}
    files = []
    for rel in rels:
        if rel.endswith(BEFORE_SUFFIX):
            path, kind = rel.removesuffix(BEFORE_SUFFIX), Kind.BEFORE_RELEASE
        else:
            path, kind = rel, (Kind.CANDIDATE if rel.startswith("s/")
                               else Kind.CENTRE_BUNDLE if rel.startswith("c/")
                               else Kind.AFTER_RELEASE if rel in before else Kind.PAGE)
        files.append(PublicFile(path, kind, f"{SITE_DIR}/{rel}"))
    return files


def release_stage(info: SeriesInfo, out: Path, bundles: Sequence[Path], now: datetime,
                  extra: Sequence[PublicFile] = ()) -> ReleasePlan:
    """Plan every site file and bundle, place each in site/ or private/staged/, write the plan.

    ``bundles`` are the centre bundles as written under OUT/private/c/<centre>/;
    ``extra`` are files a stage wrote outside site/ with their own kind (e.g. the
    after-release version of a page kept in private/ while site/ has the forthcoming one).
    """
    staged_bundles = out / "private" / "c"
    files = [*site_files(out), *(
        PublicFile(f"c/{b.relative_to(staged_bundles).as_posix()}", Kind.CENTRE_BUNDLE,
                   b.relative_to(out).as_posix()) for b in bundles), *extra]
    plan = plan_release(info, files, now)
    place_files(out, files, plan)
    write_plan(plan, out / "private" / PLAN_FILE)
    return plan


def release_streamed(info: SeriesInfo, out: Path, bundles: Sequence[Path], now: datetime,
                     blobs: Iterable[str]) -> None:
    """``release_stage`` for a build of any size: the candidates' files come as a stream.

    ``blobs`` are the site paths of every statement's ciphertext (``s/<id>.bin``,
    in OUT/site), sorted. The other files are planned as ``release_stage`` plans
    them; the blobs are planned, placed and written into the plan one at a time,
    merged into their place, so the plan file is the same bytes.
    """
    staged_bundles = out / "private" / "c"
    files = [*site_files(out, blobs=False), *(
        PublicFile(f"c/{b.relative_to(staged_bundles).as_posix()}", Kind.CENTRE_BUNDLE,
                   b.relative_to(out).as_posix()) for b in bundles)]
    plan = plan_release(info, files, now)
    place_files(out, files, plan)
    start, end = info.candidates_release, withdrawal_time(info)

    def planned(path: str) -> PlannedFile:
        _check_path(path)
        here = f"{SITE_DIR}/{path}"
        p = PlannedFile(path, Kind.CANDIDATE, here, start, end)
        if not p.live(now):
            p = PlannedFile(path, Kind.CANDIDATE,
                            f"{STAGED_DIR}/{Kind.CANDIDATE.value}/{path}", start, end)
            (out / p.source).parent.mkdir(parents=True, exist_ok=True)
            (out / here).replace(out / p.source)
        return p

    def checked(merged: Iterable[PlannedFile]) -> Iterator[PlannedFile]:
        last: PlannedFile | None = None
        for f in merged:
            if last is not None and last.path == f.path and _overlap(last, f):
                raise ValueError(f"{f.path} is planned twice for the same time")
            last = f
            yield f

    order = lambda f: (f.path, f.source)  # noqa: E731 - the plan's one sort key
    merged = heapq.merge(plan.files, (planned(b) for b in blobs), key=order)
    _write_files(plan, checked(merged), out / "private" / PLAN_FILE)


def due(plan: ReleasePlan, now: datetime) -> list[PlannedFile]:
    """The files that belong on the public site at ``now``."""
    return [f for f in plan.files if f.live(now)]


def withdrawn(plan: ReleasePlan, now: datetime) -> list[str]:
    """Site paths whose window has closed by ``now`` and that no due file replaces."""
    by_path = sorted(plan.files, key=lambda f: f.path)
    return [path for path, versions in groupby(by_path, key=lambda f: f.path)
            if gone_at(list(versions), now)]


def gone_at(versions: Sequence[PlannedFile], now: datetime) -> bool:
    """Whether a path with these planned files is withdrawn at ``now``: one's window has
    closed and none is due."""
    return not any(f.live(now) for f in versions) and any(
        f.live_until is not None and now >= f.live_until for f in versions)


def place_files(out: Path, files: Sequence[PublicFile], plan: ReleasePlan) -> None:
    """Put each file where the plan places it: site/ holds only what is live.

    A file leaving site/ is moved to private/staged/; a private file going live is
    hard-linked, so private/ keeps everything the build made and its bytes are stored once.
    """
    targets = {(p.path, p.kind): p.source for p in plan.files}
    # Files leaving site/ go first, so a page's other version can take their place.
    leaving_first = sorted(files, key=lambda f: targets[(f.path, f.kind)].startswith(SITE_DIR))
    for f in leaving_first:
        target = targets[(f.path, f.kind)]
        if target == f.source:
            continue
        dest = out / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        if f.source.startswith("private/"):
            carry(out / f.source, dest)  # one copy on disk: a hard link
        else:
            shutil.move(out / f.source, dest)


def write_plan(plan: ReleasePlan, path: Path) -> None:
    """Write the plan as JSON (private: it lists every statement file)."""
    _write_files(plan, plan.files, path)


def _write_files(plan: ReleasePlan, files: Iterable[PlannedFile], path: Path) -> None:
    write_json_list(path, "files", (
        {"path": f.path, "kind": f.kind.value, "source": f.source,
         "live_from": _iso(f.live_from), "live_until": _iso(f.live_until)} for f in files),
        head={"series": plan.series, "built_at": plan.built_at.isoformat(),
              "centres_release": plan.centres_release.isoformat(),
              "candidates_release": plan.candidates_release.isoformat(),
              "withdraw_at": plan.withdraw_at.isoformat()})


def read_plan(path: Path) -> ReleasePlan:
    """Read a plan written by ``write_plan``; raise BuildError if it is missing or damaged."""
    with _reading(path):
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = tuple(_planned(f) for f in doc["files"])
        return ReleasePlan(doc["series"], datetime.fromisoformat(doc["built_at"]),
                           datetime.fromisoformat(doc["centres_release"]),
                           datetime.fromisoformat(doc["candidates_release"]),
                           datetime.fromisoformat(doc["withdraw_at"]), files)
    raise AssertionError("unreachable")


def plan_files(path: Path) -> Iterator[PlannedFile]:
    """The plan's files one at a time, in its order (by path), without holding the plan.

    Reads what ``write_plan`` writes, one file a line (``write_json_list``); a plan
    in another layout is read whole. BuildError as ``read_plan``.
    """
    with _reading(path), path.open(encoding="utf-8") as f:
        if not f.readline().rstrip().endswith('"files": ['):
            yield from read_plan(path).files
            return
        for line in f:
            item = line.strip().removesuffix(",")
            if item == "]}":
                return
            if item:
                yield _planned(json.loads(item))
        raise ValueError("it ends before its list of files does")


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise BuildError(f"no release plan at {path}",
                         hint="give the OUT folder of a `results build`") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"the release plan {path} is damaged: {exc}",
                         hint="run `results build` again") from None


def _planned(d: dict[str, str]) -> PlannedFile:
    return PlannedFile(d["path"], Kind(d["kind"]), d["source"], _time(d["live_from"]),
                       _time(d["live_until"]))


def _check_path(path: str) -> None:
    p = PurePosixPath(path)
    if not path or p.is_absolute() or ".." in p.parts or "\\" in path:
        raise ValueError(f"a site path is relative and stays inside the site: {path!r}")


def _check_no_overlap(files: Sequence[PlannedFile]) -> None:
    by_path: dict[str, list[PlannedFile]] = {}
    for f in files:
        by_path.setdefault(f.path, []).append(f)
    for path, group in by_path.items():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if _overlap(a, b):
                    raise ValueError(f"{path} is planned twice for the same time")


def _overlap(a: PlannedFile, b: PlannedFile) -> bool:
    lo = max((t for t in (a.live_from, b.live_from) if t is not None), default=None)
    hi = min((t for t in (a.live_until, b.live_until) if t is not None), default=None)
    return lo is None or hi is None or lo < hi


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
