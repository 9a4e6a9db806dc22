"""`results publish`: due files go to a real S3-compatible server (moto's server mode)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import release_support as rs
from localhost import free_port
from moto.server import ThreadedMotoServer

from results_online.build.release.plan import PLAN_FILE, Kind, due, read_plan
from results_online.build.release.publish import S3Target, content_type, publish
from results_online.commands.main import main
from results_online.errors import PublishError

BUCKET = "results-site"
PREFIX = "june"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def store(s3_server: str, monkeypatch: pytest.MonkeyPatch,
          request: pytest.FixtureRequest) -> tuple[str, Any, str]:
    """A fresh bucket per test; credentials are dummies the local server accepts."""
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    bucket = f"{BUCKET}-{abs(hash(request.node.name)) % 10**8}"
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=bucket)
    return s3_server, client, bucket


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> rs.SmallBuild:
    return rs.small_build(tmp_path_factory.mktemp("publish"))


def _keys(client: Any, bucket: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def _publish(out: Path, endpoint: str, bucket: str, now: str) -> int:
    return main(["publish", str(out), "--to", f"s3://{bucket}/{PREFIX}/", "--endpoint",
                 endpoint, "--now", now])


def test_bundles_reach_the_store_only_at_the_centres_release(
        built: rs.SmallBuild, store: tuple[str, Any, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    endpoint, client, bucket = store
    plan = read_plan(built.out / "private" / PLAN_FILE)
    bundles = {f"{PREFIX}/{f.path}" for f in plan.files if f.kind is Kind.CENTRE_BUNDLE}
    assert len(bundles) == len(built.centres)

    assert _publish(built.out, endpoint, bucket, rs.JUST_BEFORE_CENTRES.isoformat()) == 0
    early = _keys(client, bucket)
    assert early == {f"{PREFIX}/{f.path}" for f in due(plan, rs.JUST_BEFORE_CENTRES)}
    assert early and not early & bundles
    waiting = [f for f in plan.files
               if f.live_from is not None and f.live_from > rs.JUST_BEFORE_CENTRES]
    assert f"{len(waiting)} not yet released" in capsys.readouterr().out

    assert _publish(built.out, endpoint, bucket, rs.BETWEEN.isoformat()) == 0
    # Only the bundles are new: pages are unchanged, statements wait for the candidates.
    assert f"{len(bundles)} uploaded" in capsys.readouterr().out
    assert bundles <= _keys(client, bucket)
    for key in bundles:
        obj = client.get_object(Bucket=bucket, Key=key)
        local = built.out / "private" / key.removeprefix(f"{PREFIX}/")
        assert obj["Body"].read() == local.read_bytes()
        assert obj["ContentType"] == "application/octet-stream"

    assert _publish(built.out, endpoint, bucket, rs.AFTER_BOTH.isoformat()) == 0
    # The statements and the pages' released versions, nothing else.
    released = [f for f in plan.files if f.live_from is not None
                and rs.BETWEEN < f.live_from <= rs.AFTER_BOTH]
    assert len(released) == len(built.candidates) + 3
    assert f"{len(released)} uploaded" in capsys.readouterr().out


def test_withdrawal_removes_bundles_but_keeps_public_pages(
        built: rs.SmallBuild, store: tuple[str, Any, str]) -> None:
    endpoint, client, bucket = store
    assert _publish(built.out, endpoint, bucket, rs.AFTER_BOTH.isoformat()) == 0
    before = _keys(client, bucket)
    assert _publish(built.out, endpoint, bucket, rs.AFTER_WITHDRAWAL.isoformat()) == 0
    after = _keys(client, bucket)
    retired = (f"{PREFIX}/c/", f"{PREFIX}/s/")
    assert any(k.startswith(f"{PREFIX}/s/") for k in before)
    assert after and not any(k.startswith(retired) for k in after)
    assert after == {k for k in before if not k.startswith(retired)}


def test_status_list_is_served_as_json(built: rs.SmallBuild, store: tuple[str, Any, str]) -> None:
    endpoint, client, bucket = store
    target = S3Target(bucket, "", endpoint)
    report = publish(built.out, target, rs.BETWEEN, client)
    assert report.uploaded >= 1 + len(built.centres)
    obj = client.head_object(Bucket=bucket, Key=f"status/{rs.SERIES_CODE}.json")
    assert obj["ContentType"] == "application/json"


def test_missing_bucket_is_a_clear_error(built: rs.SmallBuild, store: tuple[str, Any, str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    endpoint, _, _ = store
    assert _publish(built.out, endpoint, "no-such-bucket", rs.BETWEEN.isoformat()) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the store at") and "no-such-bucket" in err
    assert "hint: " in err and "Traceback" not in err


def test_a_planned_file_missing_from_out_is_refused(built: rs.SmallBuild, tmp_path: Path,
                                                    store: tuple[str, Any, str]) -> None:
    endpoint, client, bucket = store
    import shutil

    out = tmp_path / "out"
    shutil.copytree(built.out, out)
    next((out / "private" / "c").rglob("*.age")).unlink()
    with pytest.raises(PublishError, match="not in"):
        publish(out, S3Target(bucket, "", endpoint), rs.BETWEEN, client)


@pytest.mark.parametrize("args", [["--to", "bucket/prefix"], ["--to", "s3://"],
                                  ["--to", "s3://b", "--endpoint", "ftp://x"]])
def test_bad_publish_arguments(built: rs.SmallBuild, args: list[str],
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", str(built.out), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "hint: " in err


def test_content_types() -> None:
    assert content_type("s/ABC.bin") == "application/octet-stream"
    assert content_type("index.html") == "text/html; charset=utf-8"
    assert content_type(".well-known/results-keys.json") == "application/json"
    assert content_type("static/app.js") == "text/javascript"


class _Flaky:
    """A real client whose first puts fail as a busy store does (503 SlowDown)."""

    def __init__(self, client: Any, failures: int) -> None:
        self.client, self.failures, self.puts = client, failures, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def put_object(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        self.puts += 1
        if self.failures > 0:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce"},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject")
        return self.client.put_object(**kwargs)


def test_transient_failures_are_retried_after_a_pause(
        built: rs.SmallBuild, store: tuple[str, Any, str]) -> None:
    endpoint, client, bucket = store
    flaky, pauses = _Flaky(client, failures=3), []
    report = publish(built.out, S3Target(bucket, "", endpoint), rs.AFTER_BOTH, flaky,
                     sleep=pauses.append)
    live = due(read_plan(built.out / "private" / PLAN_FILE), rs.AFTER_BOTH)
    assert report.uploaded == len(live) == len(_keys(client, bucket))
    assert flaky.puts == len(live) + 3
    assert len(pauses) == 3 and min(pauses) > 0


def test_a_failure_that_persists_is_reported(built: rs.SmallBuild,
                                             store: tuple[str, Any, str]) -> None:
    endpoint, client, bucket = store
    with pytest.raises(PublishError, match="SlowDown"):
        publish(built.out, S3Target(bucket, "", endpoint), rs.AFTER_BOTH,
                _Flaky(client, failures=10**6), sleep=lambda s: None)


def test_a_second_publish_sends_nothing_unchanged(built: rs.SmallBuild,
                                                  store: tuple[str, Any, str]) -> None:
    endpoint, client, bucket = store
    target = S3Target(bucket, PREFIX, endpoint)
    first = publish(built.out, target, rs.AFTER_BOTH, client)
    counting = _Flaky(client, failures=0)
    again = publish(built.out, target, rs.AFTER_BOTH, counting)
    assert first.uploaded > 0 and (again.uploaded, again.unchanged) == (0, first.uploaded)
    assert counting.puts == 0


class _EmptyStore:
    """A store that holds nothing yet and is never asked to hold anything."""

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        return {}


def test_publish_reads_the_release_plan_as_a_stream(tmp_path: Path) -> None:
    import gc
    import tracemalloc
    from datetime import timedelta

    from results_online.build.release.plan import PlannedFile, ReleasePlan, write_plan

    at = rs.JUST_BEFORE_CENTRES
    release, withdraw = at + timedelta(days=1), at + timedelta(days=60)
    n = 5_000  # statement files waiting for the candidates' release: nothing to send yet
    plan = ReleasePlan("2026-06", at, release, release, withdraw, tuple(
        PlannedFile(f"s/{i:024d}.bin", Kind.CANDIDATE, f"private/staged/candidate/s/{i:024d}.bin",
                    release, withdraw) for i in range(n)))
    write_plan(plan, tmp_path / "private" / PLAN_FILE)
    del plan
    gc.collect()
    tracemalloc.start()
    try:
        report = publish(tmp_path, S3Target(BUCKET, "", None), at, _EmptyStore())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (report.uploaded, report.unchanged, report.removed, report.waiting) == (0, 0, 0, n)
    assert peak < 2**20  # the plan read whole takes about 4 MiB
