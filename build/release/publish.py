"""Publish the site to an S3-compatible store, as the release plan allows at ``now``.

Uploads every file the plan says is due (unchanged objects are skipped by their
MD5) and deletes the objects the plan has withdrawn. Files not yet due are never
sent, so nothing embargoed reaches the store before its release time.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from results_online.build.release.plan import PLAN_FILE, ReleasePlan, due, read_plan, withdrawn
from results_online.errors import PublishError

log = logging.getLogger("results_online.publish")
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

    return boto3.client("s3", endpoint_url=target.endpoint)


def publish(out: Path, target: S3Target, now: datetime, client: Any) -> PublishReport:
    """Upload what is due at ``now`` from OUT and delete what is withdrawn."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    plan = read_plan(out / "private" / PLAN_FILE)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _publish(out, plan, target, now, client)
    except (BotoCoreError, ClientError) as exc:
        raise PublishError(f"the store at {target.endpoint or 'the default endpoint'} refused "
                           f"bucket {target.bucket!r}: {_reason(exc)}",
                           hint="check --to, --endpoint and the store's credentials "
                                "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)") from None


def _publish(out: Path, plan: ReleasePlan, target: S3Target, now: datetime,
             client: Any) -> PublishReport:
    uploaded = unchanged = 0
    live = due(plan, now)
    for f in live:
        source = out / f.source
        if not source.is_file():
            raise PublishError(f"{f.source} is in the release plan but not in {out}",
                               hint="run `results build` again")
        data = source.read_bytes()
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        key = target.key(f.path)
        if _etag(client, target.bucket, key) == md5:
            unchanged += 1
            continue
        client.put_object(Bucket=target.bucket, Key=key, Body=data,
                          ContentType=content_type(f.path), CacheControl="no-cache")
        uploaded += 1
    gone = withdrawn(plan, now)
    for path in gone:
        client.delete_object(Bucket=target.bucket, Key=target.key(path))
    log.info("published %d file(s), %d unchanged, %d withdrawn", uploaded, unchanged, len(gone))
    waiting = sum(1 for f in plan.files if f.live_from is not None and now < f.live_from)
    return PublishReport(uploaded, unchanged, len(gone), waiting)


def content_type(path: str) -> str:
    """The Content-Type a site file is served with."""
    suffix = Path(path).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _etag(client: Any, bucket: str, key: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return str(head.get("ETag", "")).strip('"') or None


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', '')} {error.get('Message', '')}".strip() or type(exc).__name__
    return type(exc).__name__
