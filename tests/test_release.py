"""The release plan: what goes live when, where a build places it, and the plan file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import release_support as rs
from factories import series_info

from results_online.build.release.plan import (
    PLAN_FILE,
    Kind,
    PublicFile,
    due,
    place_files,
    plan_release,
    read_plan,
    release_stage,
    withdrawn,
    write_plan,
)
from results_online.errors import BuildError

INFO = series_info()  # centres 2026-08-19 08:00Z, candidates 2026-08-20 08:00Z, until 2027-02-28
CENTRES = INFO.centres_release
CANDIDATES = INFO.candidates_release
WITHDRAW = datetime(2027, 3, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)

FILES = [
    PublicFile("index.html", Kind.BEFORE_RELEASE, "site/index.html"),
    PublicFile("index.html", Kind.CANDIDATE, "private/pages/index.html"),
    PublicFile("statement/index.html", Kind.PAGE, "site/statement/index.html"),
    PublicFile(".well-known/results-keys.json", Kind.PAGE, "site/.well-known/results-keys.json"),
    PublicFile("s/AAAABBBBCCCCDDDD.bin", Kind.CANDIDATE, "site/s/AAAABBBBCCCCDDDD.bin"),
    PublicFile("c/GB001/2026-06.zip.age", Kind.CENTRE_BUNDLE, "private/c/GB001/2026-06.zip.age"),
]


def _paths(plan_now: datetime, at: datetime) -> set[tuple[str, Kind]]:
    return {(f.path, f.kind) for f in due(plan_release(INFO, FILES, plan_now), at)}


PAGES = {("statement/index.html", Kind.PAGE), (".well-known/results-keys.json", Kind.PAGE)}


def test_before_any_release_only_pages_and_forthcoming_are_due() -> None:
    assert _paths(CENTRES, CENTRES - SECOND) == PAGES | {("index.html", Kind.BEFORE_RELEASE)}


def test_bundles_go_live_at_the_centres_release_and_not_a_second_earlier() -> None:
    assert ("c/GB001/2026-06.zip.age", Kind.CENTRE_BUNDLE) not in _paths(CENTRES, CENTRES - SECOND)
    between = _paths(CENTRES, CENTRES)
    assert ("c/GB001/2026-06.zip.age", Kind.CENTRE_BUNDLE) in between
    assert ("s/AAAABBBBCCCCDDDD.bin", Kind.CANDIDATE) not in between


def test_candidate_files_replace_forthcoming_at_the_candidates_release() -> None:
    before = _paths(CENTRES, CANDIDATES - SECOND)
    after = _paths(CENTRES, CANDIDATES)
    assert ("index.html", Kind.BEFORE_RELEASE) in before
    assert ("index.html", Kind.CANDIDATE) not in before
    assert after == PAGES | {("index.html", Kind.CANDIDATE), ("s/AAAABBBBCCCCDDDD.bin",
                             Kind.CANDIDATE), ("c/GB001/2026-06.zip.age", Kind.CENTRE_BUNDLE)}


def test_statements_and_bundles_are_withdrawn_after_available_until() -> None:
    plan = plan_release(INFO, FILES, CENTRES)
    assert plan.withdraw_at == WITHDRAW
    last_day = datetime(2027, 2, 28, 23, 59, 59, tzinfo=UTC)
    assert ("c/GB001/2026-06.zip.age", Kind.CENTRE_BUNDLE) in _paths(CENTRES, last_day)
    assert withdrawn(plan, last_day) == []
    assert {(f.path, f.kind) for f in due(plan, WITHDRAW)} == PAGES
    # index.html is withdrawn too: both its versions are out of their windows.
    assert withdrawn(plan, WITHDRAW) == ["c/GB001/2026-06.zip.age", "index.html",
                                         "s/AAAABBBBCCCCDDDD.bin"]
    assert withdrawn(plan, CANDIDATES) == []  # the forthcoming page is replaced, not removed


def test_plan_places_files_for_the_build_time() -> None:
    before = {(f.path, f.kind): f.source for f in plan_release(INFO, FILES, CENTRES - SECOND).files}
    assert before[("s/AAAABBBBCCCCDDDD.bin", Kind.CANDIDATE)] == (
        "private/staged/candidate/s/AAAABBBBCCCCDDDD.bin")
    assert before[("c/GB001/2026-06.zip.age", Kind.CENTRE_BUNDLE)] == (
        "private/c/GB001/2026-06.zip.age")
    assert before[("index.html", Kind.BEFORE_RELEASE)] == "site/index.html"
    after = {(f.path, f.kind): f.source for f in plan_release(INFO, FILES, CANDIDATES).files}
    assert after[("c/GB001/2026-06.zip.age", Kind.CENTRE_BUNDLE)] == "site/c/GB001/2026-06.zip.age"
    assert after[("index.html", Kind.BEFORE_RELEASE)] == (
        "private/staged/before_release/index.html")
    assert after[("index.html", Kind.CANDIDATE)] == "site/index.html"


def _make(out: Path) -> None:
    for f in FILES:
        path = out / f.source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{f.kind.value}:{f.path}")


@pytest.mark.parametrize("now", [CENTRES - SECOND, CENTRES, CANDIDATES, WITHDRAW])
def test_site_holds_exactly_what_is_due_after_placing(tmp_path: Path, now: datetime) -> None:
    _make(tmp_path)
    plan = plan_release(INFO, FILES, now)
    place_files(tmp_path, FILES, plan)
    site = {p.relative_to(tmp_path / "site").as_posix(): p.read_text()
            for p in (tmp_path / "site").rglob("*") if p.is_file()}
    assert site == {f.path: f"{f.kind.value}:{f.path}" for f in due(plan, now)}
    for f in plan.files:  # every file is where the plan says, to publish later
        assert (tmp_path / f.source).read_text() == f"{f.kind.value}:{f.path}"
    # private copies stay private
    assert (tmp_path / "private/c/GB001/2026-06.zip.age").is_file()


def test_plan_file_round_trips(tmp_path: Path) -> None:
    plan = plan_release(INFO, FILES, CENTRES)
    write_plan(plan, tmp_path / PLAN_FILE)
    assert read_plan(tmp_path / PLAN_FILE) == plan
    doc = json.loads((tmp_path / PLAN_FILE).read_text())
    assert doc["centres_release"] == CENTRES.isoformat()
    with pytest.raises(BuildError, match="no release plan"):
        read_plan(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"files": [{"kind": "nonsense"}]}')
    with pytest.raises(BuildError, match="damaged"):
        read_plan(tmp_path / "bad.json")


@pytest.mark.parametrize("path", ["/etc/passwd", "../private/links.csv", "s/../../x", "",
                                  "a\\b"])
def test_paths_must_stay_inside_the_site(path: str) -> None:
    with pytest.raises(ValueError):
        plan_release(INFO, [PublicFile(path, Kind.PAGE, "site/x")], CENTRES)


def test_one_path_twice_at_the_same_time_is_refused() -> None:
    twice = [PublicFile("index.html", Kind.PAGE, "site/index.html"),
             PublicFile("index.html", Kind.CANDIDATE, "private/x/index.html")]
    with pytest.raises(ValueError, match="twice"):
        plan_release(INFO, twice, CENTRES)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        plan_release(INFO, FILES, datetime(2026, 8, 20))


def test_release_stage_over_a_real_output_folder(tmp_path: Path) -> None:
    (tmp_path / "site" / "s").mkdir(parents=True)
    (tmp_path / "site" / "s" / "X.bin").write_bytes(b"ciphertext")
    (tmp_path / "site" / "index.html").write_text("page")
    bundle = tmp_path / "private" / "c" / "GB001" / "2026-06.zip.age"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(b"age")
    plan = release_stage(INFO, tmp_path, [bundle], CENTRES)
    assert read_plan(tmp_path / "private" / PLAN_FILE) == plan
    kinds = {f.path: f.kind for f in plan.files}
    assert kinds == {"s/X.bin": Kind.CANDIDATE, "index.html": Kind.PAGE,
                     "c/GB001/2026-06.zip.age": Kind.CENTRE_BUNDLE}
    assert (tmp_path / "site" / "c" / "GB001" / "2026-06.zip.age").read_bytes() == b"age"
    assert not (tmp_path / "site" / "s" / "X.bin").exists()
    assert (tmp_path / "private/staged/candidate/s/X.bin").read_bytes() == b"ciphertext"


# --- through `results build` -------------------------------------------------------------

def test_a_build_before_release_publishes_no_bundle_and_no_statement(tmp_path: Path) -> None:
    b = rs.small_build(tmp_path, now=rs.BEFORE_ANY)
    site = [p.relative_to(b.out / "site").as_posix()
            for p in (b.out / "site").rglob("*") if p.is_file()]
    assert site and not [p for p in site if p.startswith(("c/", "s/"))]
    plan = read_plan(b.out / "private" / PLAN_FILE)
    bundles = [f for f in plan.files if f.kind is Kind.CENTRE_BUNDLE]
    assert {f.path for f in bundles} == {f"c/{c}/{rs.SERIES_CODE}.zip.age" for c in b.centres}
    assert all((b.out / f.source).is_file() and f.source.startswith("private/")
               for f in bundles)
    assert not [f for f in due(plan, rs.JUST_BEFORE_CENTRES) if f.kind is Kind.CENTRE_BUNDLE]
    assert {f.path for f in due(plan, rs.BETWEEN) if f.kind is Kind.CENTRE_BUNDLE} == {
        f.path for f in bundles}


def test_a_build_after_release_puts_bundles_in_the_site(tmp_path: Path) -> None:
    b = rs.small_build(tmp_path, now=rs.AFTER_BOTH.isoformat())
    for centre in b.centres:
        public = b.out / "site" / "c" / centre / f"{rs.SERIES_CODE}.zip.age"
        private = b.out / "private" / "c" / centre / f"{rs.SERIES_CODE}.zip.age"
        assert public.read_bytes() == private.read_bytes()


@pytest.mark.parametrize(("now", "shown"), [(CANDIDATES - SECOND, "forthcoming"),
                                             (CANDIDATES, "released"), (WITHDRAW, "released")])
def test_a_page_with_a_forthcoming_version_switches_at_the_candidates_release(
        tmp_path: Path, now: datetime, shown: str) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("released")
    (site / "index.html.before-release").write_text("forthcoming")
    plan = release_stage(INFO, tmp_path, [], now)
    assert {(f.path, f.kind) for f in plan.files} == {("index.html", Kind.BEFORE_RELEASE),
                                                      ("index.html", Kind.AFTER_RELEASE)}
    assert sorted(p.name for p in site.iterdir()) == ["index.html"]
    assert (site / "index.html").read_text() == shown
    assert [f.kind for f in due(plan, now)] == [
        Kind.BEFORE_RELEASE if shown == "forthcoming" else Kind.AFTER_RELEASE]
    assert withdrawn(plan, now) == []
    # publish later finds the other version where the plan says
    other = next(f for f in plan.files if f.kind.value != due(plan, now)[0].kind.value)
    assert (tmp_path / other.source).read_text() != shown


def test_withdrawal_is_at_midnight_in_london_when_the_releases_are_in_summer_time() -> None:
    # Releases given in BST (+01:00), available_until in winter (GMT): withdrawal must be
    # midnight GMT, not midnight +01:00 (an hour early).
    from dataclasses import replace
    from datetime import date, timezone

    bst = timezone(timedelta(hours=1))
    info = replace(INFO, centres_release=datetime(2026, 8, 19, 9, 0, tzinfo=bst),
                   candidates_release=datetime(2026, 8, 20, 9, 0, tzinfo=bst),
                   available_until=date(2027, 1, 31))
    plan = plan_release(info, FILES, CENTRES)
    assert plan.withdraw_at == datetime(2027, 2, 1, 0, 0, tzinfo=UTC)
    summer = replace(info, available_until=date(2027, 6, 30))
    assert plan_release(summer, FILES, CENTRES).withdraw_at == datetime(
        2027, 6, 30, 23, 0, tzinfo=UTC)
