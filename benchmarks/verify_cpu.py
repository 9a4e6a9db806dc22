"""Where a request's CPU goes: the verification app called in-process, without an HTTP server.

``verify_load.py`` measures the app under uvicorn and wrk, where the server's own
HTTP work (~200 us a request on the shared 2-core machine) and the other load on the
machine blur what the app adds. This calls the ASGI apps directly (the bare Starlette
"hello" app, the verification app with memory limits and with Redis limits, and the
organisations' PostgreSQL endpoint), 100 requests at a time in one event loop, over
the same index, database, servers and bodies as ``verify_load.py``, and prints the
process's CPU time per request of each, alternating rounds, and what each adds to the
bare app's. With ``--profile`` it also prints, per scenario and app, the functions
with the most time of their own (cProfile: the figures double, the ranking holds).

    .venv/bin/python benchmarks/verify_cpu.py [--requests 5000] [--rounds 3]
        [--paths /api/verify,/api/v1/verify] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from verify_load import Bodies, Headers, hello_app, prepare, start_redis

App = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]
CONCURRENT = 100


async def drive(app: App, path: str, bodies: Bodies, headers: Headers, n: int) -> dict[int, int]:
    """Send ``n`` POSTs of the bodies in turn, ``CONCURRENT`` at a time; count the statuses."""
    fixed = [(b"host", b"bench"), (b"content-type", b"application/json"),
             *((k.lower().encode(), v.encode()) for k, v in headers.items())]
    raws = [json.dumps(b).encode() for b in bodies]
    statuses: dict[int, int] = {}
    numbers = iter(range(n))

    async def one(i: int) -> None:
        raw = raws[i % len(raws)]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [*fixed, (b"content-length", b"%d" % len(raw))],
                 "client": ("127.0.0.1", 40000 + i % CONCURRENT), "server": ("127.0.0.1", 80)}
        messages = [{"type": "http.request", "body": raw, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client never leaves
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(scope, receive, send)

    async def client() -> None:
        for i in numbers:
            await one(i)

    await asyncio.gather(*(client() for _ in range(CONCURRENT)))
    return statuses


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--paths", help="comma-separated scenarios (default: all)")
    p.add_argument("--profile", action="store_true")
    args = p.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from postgres import postgres_server

    redis = start_redis()
    with tempfile.TemporaryDirectory() as tmp, postgres_server(fsync=True) as database:
        env, bodies = prepare(Path(tmp), database)
        if args.paths:
            bodies = {k: v for k, v in bodies.items() if k.split()[0] in args.paths.split(",")}
        apps = make_apps(env, redis[1] if redis else None)
        loop = asyncio.new_event_loop()
        print(f"in-process ASGI, {CONCURRENT} requests at a time, {args.requests} a run, "
              f"{args.rounds} alternating rounds (median shown), CPU time per request")
        try:
            for label, (body, headers) in bodies.items():
                path = label.split()[0]
                cpu: dict[str, list[float]] = {name: [] for name in apps}
                profiles: dict[str, cProfile.Profile] = {}
                for app in apps.values():  # warm-up
                    loop.run_until_complete(drive(app, path, body, headers, 500))
                for _ in range(args.rounds):
                    for name, app in apps.items():
                        t0 = time.process_time()
                        statuses = loop.run_until_complete(
                            drive(app, path, body, headers, args.requests))
                        cpu[name].append(1e6 * (time.process_time() - t0) / args.requests)
                        if set(statuses) != {200}:
                            raise SystemExit(f"{name} {label}: answered {statuses}")
                if args.profile:
                    for name, app in apps.items():
                        profiles[name] = cProfile.Profile()
                        profiles[name].runcall(loop.run_until_complete,
                                               drive(app, path, body, headers, args.requests))
                report(label, {name: statistics.median(v) for name, v in cpu.items()}, profiles)
        finally:
            loop.close()
            if redis is not None:
                redis[0].terminate()
                redis[0].wait(timeout=10)


def make_apps(env: dict[str, str], redis_url: str | None) -> dict[str, App]:
    """The bare app and the verification app with each limiter storage."""
    os.environ.update(env)
    from results_online.verify_app.app import from_environment

    apps: dict[str, App] = {"bare hello": hello_app(), "verify app": from_environment()}
    if redis_url:
        os.environ["RESULTS_REDIS_URL"] = redis_url
        apps["app+redis"] = from_environment()
        del os.environ["RESULTS_REDIS_URL"]
    return apps


def report(label: str, cpu: dict[str, float], profiles: dict[str, cProfile.Profile]) -> None:
    print(f"\nPOST {label}")
    bare = cpu["bare hello"]
    for name, us in cpu.items():
        extra = "" if name == "bare hello" else f"  (+{us - bare:5.1f} us over the bare app)"
        print(f"  {name:10s} {us:6.1f} us/request{extra}")
        if name in profiles:
            out = io.StringIO()
            stats = pstats.Stats(profiles[name], stream=out)
            stats.sort_stats("tottime").print_stats(12)
            lines = [ln for ln in out.getvalue().splitlines() if ln.strip()][-13:]
            print("\n".join("      " + ln.replace(os.getcwd() + "/", "") for ln in lines))


if __name__ == "__main__":
    main()
