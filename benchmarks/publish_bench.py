"""Upload rate of `results publish` against the S3-compatible test server (moto, as the tests use).

    .venv/bin/python benchmarks/publish_bench.py [--n 10000]

Writes N statement-sized ciphertext blobs (16 KB of random bytes each) and a release
plan making them all due, then publishes twice: the first sends every file, the
second finds every one unchanged by its content hash. moto's server runs in this
process, so its own CPU time counts against the rate: a real store is faster.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

BLOB = 16 * 1024


def publish_rate(n: int) -> str:
    """Publish n blobs twice; the figures as a line of text."""
    import boto3
    from factories import series_info
    from localhost import free_port
    from moto.server import ThreadedMotoServer

    from results_online.build.release.plan import Kind, PublicFile, plan_release, write_plan
    from results_online.build.release.publish import CONCURRENCY, S3Target, publish, s3_client

    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ.setdefault(name, value)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's access log
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory(prefix="results-publish-") as tmp:
            out = Path(tmp)
            (out / "site" / "s").mkdir(parents=True)
            files = []
            for i in range(n):
                (out / "site" / "s" / f"{i:016d}.bin").write_bytes(os.urandom(BLOB))
                files.append(PublicFile(f"s/{i:016d}.bin", Kind.PAGE, f"site/s/{i:016d}.bin"))
            now = datetime(2026, 8, 13, 9, 0, tzinfo=UTC)
            plan = plan_release(series_info(), files, now)
            write_plan(plan, out / "private" / "release-plan.json")
            target = S3Target("bench", "site", endpoint)
            client = s3_client(target)
            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
            t0 = time.perf_counter()
            first = publish(out, target, now, client)
            upload = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = publish(out, target, now, client)
            skip = time.perf_counter() - t0
    finally:
        server.stop()
    return (f"publish {n} blobs of {BLOB // 1024} KB to moto, {CONCURRENCY} at a time: "
            f"{first.uploaded / upload:.0f} files/s uploading ({upload:.1f} s), "
            f"{again.unchanged / skip:.0f} files/s when all are unchanged ({skip:.1f} s)")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10000)
    print(publish_rate(parser.parse_args().n))


if __name__ == "__main__":
    main()
