"""Publish the site to an S3-compatible store, as the release plan allows at ``now``.

Uploads every file the plan says is due, up to CONCURRENCY at a time (unchanged
objects are skipped by their content's MD5 against the ETags of one listing of the
prefix, so an unchanged file costs no request), retrying transient failures with
exponential backoff, and deletes the objects the plan has withdrawn. Files not yet due are never
sent, so nothing embargoed reaches the store before its release time.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Any, TypeVar

from results_online.build.release.plan import PLAN_FILE, PlannedFile, gone_at, plan_files
from results_online.errors import PublishError

log = logging.getLogger("results_online.publish")
T = TypeVar("T")
CONCURRENCY = 16  # uploads in flight at once
RETRIES = 5  # further attempts after a transient failure, pausing BACKOFF, 2x, 4x, ... seconds
BACKOFF = 0.2
_TRANSIENT = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
              "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "503", "500"}
_TYPES = {".bin": "application/octet-stream", ".age": "application/octet-stream",
          ".json": "application/json", ".js": "text/javascript", ".css": "text/css",
          ".html": "text/html; charset=utf-8", ".pdf": "application/pdf",
          ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8"}


@dataclass(frozen=True)
class S3Target:
    """Where the site goes: a bucket, a key prefix, and the store's endpoint."""

    bucket: str
    prefix: str  # "" or "results/2026-06" (no leading or trailing '/')
    endpoint: str | None  # None: the provider's default endpoint

    def key(self, path: str) -> str:
        """The object key of a site path."""
        return f"{self.prefix}/{path}" if self.prefix else path


@dataclass(frozen=True)
class PublishReport:
    """What one `results publish` did."""

    uploaded: int
    unchanged: int
    removed: int
    waiting: int  # planned files not yet due


def s3_client(target: S3Target) -> Any:
    """A boto3 S3 client for the target (credentials come from boto3's usual sources)."""
    import boto3
    from botocore.config import Config

    # Enough connections for the uploads in flight; retries are ours (_retrying).
    return boto3.client("s3", endpoint_url=target.endpoint, config=Config(
        max_pool_connections=CONCURRENCY, retries={"max_attempts": 1, "mode": "standard"}))


def publish(out: Path, target: S3Target, now: datetime, client: Any, *,
            sleep: Callable[[float], None] = time.sleep) -> PublishReport:
    """Upload what is due at ``now`` from OUT and delete what is withdrawn.

    ``sleep`` waits between attempts after a transient failure.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _publish(out, out / "private" / PLAN_FILE, target, now, client, sleep=sleep)
    except (BotoCoreError, ClientError) as exc:
        raise PublishError(f"the store at {target.endpoint or 'the default endpoint'} refused "
                           f"bucket {target.bucket!r}: {_reason(exc)}",
                           hint="check --to, --endpoint and the store's credentials "
                                "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)") from None


def _publish(out: Path, plan: Path, target: S3Target, now: datetime, client: Any,
             *, sleep: Callable[[float], None] = time.sleep) -> PublishReport:
    # The plan lists every statement file: it is read as a stream, once to check that
    # every due file is there (before anything is sent), once to send them, once for
    # what is withdrawn; never whole in memory.
    waiting = 0
    for f in plan_files(plan):
        if f.live(now) and not (out / f.source).is_file():
            raise PublishError(f"{f.source} is in the release plan but not in {out}",
                               hint="run `results build` again")
        waiting += f.live_from is not None and now < f.live_from
    stored = _stored_etags(client, target, sleep)
    uploaded = due = 0
    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="upload") as pool:
        pending: set[Future[bool]] = set()
        for f in (f for f in plan_files(plan) if f.live(now)):
            if len(pending) >= 2 * CONCURRENCY:  # bounded: a few files in memory at a time
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                uploaded += sum(1 for d in finished if d.result())
            pending.add(pool.submit(_upload, client, target, out / f.source, f.path,
                                    stored.get(target.key(f.path)), sleep=sleep))
            due += 1
        uploaded += sum(1 for d in pending if d.result())
    gone = 0
    for path in _withdrawn(plan_files(plan), now):
        _retrying(partial(client.delete_object, Bucket=target.bucket, Key=target.key(path)),
                  sleep)
        gone += 1
    log.info("published %d file(s), %d unchanged, %d withdrawn", uploaded, due - uploaded, gone)
    return PublishReport(uploaded, due - uploaded, gone, waiting)


def _withdrawn(files: Iterator[PlannedFile], now: datetime) -> Iterator[str]:
    """``plan.withdrawn`` over the plan's files as they stream by, one path at a time."""
    last = ""
    for path, group in groupby(files, key=lambda f: f.path):
        if path <= last:  # each path's files are together only in a plan sorted by path
            raise PublishError(f"the release plan is not in order at {path}",
                               hint="run `results build` again")
        last = path
        if gone_at(list(group), now):
            yield path


def _upload(client: Any, target: S3Target, source: Path, path: str, etag: str | None, *,
            sleep: Callable[[float], None]) -> bool:
    """Put one file unless the store holds the same bytes already; True if it was sent."""
    data = source.read_bytes()
    if etag == hashlib.md5(data, usedforsecurity=False).hexdigest():
        return False
    _retrying(lambda: client.put_object(Bucket=target.bucket, Key=target.key(path), Body=data,
                                        ContentType=content_type(path), CacheControl="no-cache"),
              sleep)
    return True


def _stored_etags(client: Any, target: S3Target, sleep: Callable[[float], None],
                  ) -> dict[str, str]:
    """Every object under the prefix with its ETag (the MD5 of a single-part upload)."""
    out: dict[str, str] = {}
    kwargs = {"Bucket": target.bucket, "Prefix": f"{target.prefix}/" if target.prefix else ""}
    while True:
        page = _retrying(partial(client.list_objects_v2, **kwargs), sleep)
        out.update((o["Key"], str(o.get("ETag", "")).strip('"')) for o in page.get("Contents", []))
        if not page.get("IsTruncated"):
            return out
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def _retrying(call: Callable[[], T], sleep: Callable[[float], None]) -> T:
    """``call()``, again after a growing pause when the store fails in a way that passes."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    for attempt in range(RETRIES + 1):
        try:
            return call()
        except (ConnectionError, HTTPClientError):
            if attempt == RETRIES:
                raise
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if attempt == RETRIES or not (code in _TRANSIENT or int(status or 0) >= 500):
                raise
        sleep(BACKOFF * 2 ** attempt)
    raise AssertionError("unreachable")


def content_type(path: str) -> str:
    """The Content-Type a site file is served with."""
    suffix = Path(path).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', '')} {error.get('Message', '')}".strip() or type(exc).__name__
    return type(exc).__name__
