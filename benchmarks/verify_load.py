"""Load benchmark: the verification app against a bare Starlette "hello" app, same server.

Both run under uvicorn (one process each, access log off, same flags), one at a
time; the same load comes from another process on localhost: `wrk` (installed by
scripts/bootstrap.sh) with N connections for a fixed time, or, without wrk, an
asyncio httpx driver bounded by request count and time. Prints requests/s, p50 and
p99 latency for each app and the ratio. The verification app runs twice: with its
limiter in memory, and with it in a redis-server this script starts on 127.0.0.1
(skipped when redis-server is not installed). The index holds 1,000 candidates:
"many candidates" checks a different one on each request, as real traffic does;
"one candidate" checks the same one 100 times at once, where by design at most as
many checks run side by side as the ID has failures left. Targets: at least 50% of the bare app's
throughput, p99 under 50 ms, at 100 concurrent connections.

The app's registered organisations live in a real PostgreSQL server started here
(Debian's package, as the tests start it; fsync on, as in production), so
``/api/v1/verify`` measures an API-key lookup, the check, the organisation's budget
and an audit-log insert per request.

    .venv/bin/python benchmarks/verify_load.py [--seconds 10] [--connections 100]
        [--paths /api/v1/verify,/api/verify]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the PostgreSQL server helper the tests use
EXAMPLE = ROOT / "examples" / "step-2026-06"
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%s
bodies = { %s }
i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "p50_ms": %%f, "p99_ms": %%f, ' ..
    '"errors": %%d, "non2xx": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def hello_app() -> Starlette:
    """The bare baseline: any POST or GET answers a small JSON body."""
    async def hello(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"hello": "world"})

    return Starlette(routes=[Route("/{path:path}", hello, methods=["GET", "POST"])])


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    non2xx: int
    cpu_us: float = 0.0  # the server process's CPU time per request (0 where unknown)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


Headers = dict[str, str]
Bodies = list[dict[str, str]]  # sent in turn


def prepare(folder: Path, database: str) -> tuple[dict[str, str],
                                                   dict[str, tuple[Bodies, Headers]]]:
    """A key store, an index of 1,000 candidates and one organisation; the app's env and the
    bodies and headers of each scenario."""
    import sqlite3

    from verify_timing import prepare as index_of

    from results_online.verify_app.orgs.keys import new_key
    from results_online.verify_app.orgs.store import OrgStore

    env, people = index_of(folder, 1000)
    env.pop("RESULTS_FAILURES_PER_ID")  # the budget the build sized
    env["RESULTS_DATABASE_URL"] = database
    store = OrgStore(database)
    key = new_key()
    store.add("Benchmark University", "bench@uni.example", key, datetime.now(UTC))
    store.close()
    secret = [{"candidate_id": cid, "secret_number": s} for cid, s, _ in people]
    share = [{"candidate_id": cid, "share_code": code} for cid, _, code in people]
    con = sqlite3.connect(env["RESULTS_VERIFY_INDEX"])
    ids = [{"statement_id": r[0]} for r in con.execute("SELECT statement_id FROM statements")]
    con.close()
    bodies = {
        "/api/verify secret, many candidates": (secret, {}),
        "/api/verify share code, many candidates": (share, {}),
        "/api/verify secret, one candidate": (secret[:1], {}),
        "/api/status": (ids, {}),
        "/api/v1/verify": (secret, {"Authorization": f"Bearer {key.text}"}),
    }
    return env, bodies


def start_redis() -> tuple[subprocess.Popen[bytes], str] | None:
    """A throw-away redis-server on 127.0.0.1, or None when it is not installed."""
    if shutil.which("redis-server") is None:
        return None
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(factory: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start uvicorn on a factory; return the process and its base URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--no-proxy-headers", "--log-level",
         "warning", "--app-dir", str(Path(__file__).parent)],
        env=os.environ | env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/healthz", timeout=1)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{factory} did not start")


def drive_wrk(url: str, body: Bodies, headers: Headers, seconds: int,
              connections: int) -> Result:
    extra = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}"
                      for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % (extra, ", ".join(f"[[{json.dumps(b)}]]" for b in body)))
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", f.name,
             url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(f.name)
    return Result(**json.loads(out.strip().splitlines()[-1]))


async def _httpx_load(url: str, body: Bodies, headers: Headers, seconds: int,
                      connections: int, max_requests: int) -> Result:
    latencies: list[float] = []
    errors = non2xx = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=5) as client:
        async def worker() -> None:
            nonlocal errors, non2xx
            while time.monotonic() < stop and len(latencies) < max_requests:
                t0 = time.perf_counter()
                try:
                    r = await client.post(url, json=body[len(latencies) % len(body)],
                                          headers=headers)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                non2xx += r.status_code >= 300

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - t0
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return Result(len(latencies), elapsed, pct(0.5), pct(0.99), errors, non2xx)


def drive_httpx(url: str, body: Bodies, headers: Headers, seconds: int,
                connections: int) -> Result:
    """Run the httpx driver in its own process, so it does not share the server's."""
    out = subprocess.run(
        [sys.executable, __file__, "--drive", url, "--body", json.dumps(body),
         "--headers", json.dumps(headers),
         "--seconds", str(seconds), "--connections", str(connections)],
        capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    return Result(**json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--driver", choices=["wrk", "httpx"],
                   default="wrk" if shutil.which("wrk") else "httpx")
    p.add_argument("--drive", help=argparse.SUPPRESS)
    p.add_argument("--paths", help="comma-separated scenarios (default: all)")
    p.add_argument("--no-fsync", action="store_true",
                   help="run PostgreSQL with fsync off (shows what the disk costs)")
    p.add_argument("--body", help=argparse.SUPPRESS)
    p.add_argument("--headers", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.drive:
        result = asyncio.run(_httpx_load(args.drive, json.loads(args.body),
                                         json.loads(args.headers), args.seconds,
                                         args.connections, max_requests=1_000_000))
        print(json.dumps(result.__dict__))
        return
    drive = drive_wrk if args.driver == "wrk" else drive_httpx
    app = "results_online.verify_app.app:from_environment"
    apps: dict[str, tuple[str, dict[str, str]]] = {"bare hello": ("verify_load:hello_app", {}),
                                                   "verify app": (app, {})}
    redis = start_redis()
    if redis is not None:
        apps["app+redis"] = (app, {"RESULTS_REDIS_URL": redis[1]})
    from postgres import postgres_server

    with tempfile.TemporaryDirectory() as tmp, postgres_server(fsync=not args.no_fsync) as database:
        env, bodies = prepare(Path(tmp), database)
        if args.paths:
            bodies = {k: v for k, v in bodies.items() if k.split()[0] in args.paths.split(",")}
        print(f"driver {args.driver}, {args.connections} connections, {args.seconds} s per run,"
              f" {args.rounds} alternating rounds (median shown), uvicorn one process each,"
              f" {os.cpu_count()} cores")
        servers = {name: serve(factory, env | extra) for name, (factory, extra) in apps.items()}
        try:
            for label, (body, headers) in bodies.items():
                path = label.split()[0]
                runs: dict[str, list[Result]] = {name: [] for name in apps}
                for _, base in servers.values():
                    drive(base + path, body, headers, 1, args.connections)  # warm-up
                for _ in range(args.rounds):  # alternate, so both see the same machine load
                    for name, (proc, base) in servers.items():
                        before = cpu_seconds(proc.pid)
                        r = drive(base + path, body, headers, args.seconds, args.connections)
                        used = cpu_seconds(proc.pid) - before
                        runs[name].append(replace(r, cpu_us=1e6 * used / max(1, r.requests)))
                report(label, {name: median(rs) for name, rs in runs.items()})
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)
            if redis is not None:
                redis[0].terminate()
                redis[0].wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere). Unlike requests/s it
    hardly moves when other work shares the machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(results: list[Result]) -> Result:
    """The run with the median throughput."""
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


def report(path: str, results: dict[str, Result]) -> None:
    print(f"\nPOST {path}")
    for name, r in results.items():
        print(f"  {name:10s} {r.rps:8.0f} req/s  p50 {r.p50_ms:6.1f} ms  "
              f"p99 {r.p99_ms:6.1f} ms  ({r.requests} requests, {r.errors} errors, "
              f"{r.non2xx} non-2xx)  server CPU {r.cpu_us:5.0f} us/request")
    bare = results["bare hello"]
    for name, app in results.items():
        if name == "bare hello":
            continue
        ratio = app.rps / bare.rps if bare.rps else 0.0
        ok = ratio >= 0.5 and app.p99_ms < 50 and app.errors == app.non2xx == 0
        cpu = f"; bare CPU/request is {bare.cpu_us / app.cpu_us:.0%} of this one's" \
            if app.cpu_us else ""
        print(f"  {name}: {ratio:.0%} of the bare app's throughput{cpu}; target >=50% and "
              f"p99 <50 ms: {'met' if ok else 'NOT met'}")

if __name__ == "__main__":
    main()
