"""Timing benchmark: can a verifier tell failure kinds apart by how long the app takes?

Runs the real verification app under uvicorn on 127.0.0.1 (one process, memory
limiter, access log off) over an index of a few thousand candidates made from the
STEP example, and sends, over one kept-alive loopback connection, interleaved in a
shuffled order, thousands of checks of each kind:

    unknown ID      an ID the index does not hold
    wrong secret    a real ID, wrong secret number (never enough to lock it)
    locked, wrong   a locked ID, wrong secret number
    locked, right   a locked ID, its right secret number
    share, unknown  an unknown ID with a well-formed share code
    share, wrong    a real ID with another statement's share code

Every ID of the secret-number kinds is timed equally often (locked IDs half wrong,
half right), and every one of them has failed before (unlocked IDs once, locked IDs
ten times), so the kinds differ only in what the app does, not in how warm the
benchmark keeps an ID. The warm-up sends share-code checks of IDs of its own, so it
uses up no timed ID's failures. All answers are checked to be byte-identical. Per pair
of kinds of the same proof it prints the difference of the median times and the
Mann-Whitney z-score (normal approximation, ties averaged): the kinds are shuffled
together, so under "no difference" every labelling is equally likely and z is a
permutation test, whatever the machine's load does meanwhile. |z| >= 3 means the pair is
distinguishable. Target: every pair |z| < 3, on three runs. (A share-code check is not
compared with a secret-number check: whoever sends one knows which proof they sent; the
times of both are printed.) ``--plant-us 2`` adds 2 µs to every "wrong secret" time:
a self-test of how large a difference the run can see. ``--in-process`` calls the app's
check directly (same kinds, same order, same statistics): far less noise, to find what
differs in the app's own work.

    .venv/bin/python benchmarks/verify_timing.py [--samples 3000] [--seed N] [--plant-us U]
        [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "step-2026-06"
PER_ID = 10  # secret-number failures per ID per day for this run (locks after 10)
# Every unlocked ID gets one failure before the timed checks, so that none of them is
# timed on its first failure (which creates its limiter window: a locked ID's exists).
SEEDED = 1
USES = PER_ID - 1 - SEEDED  # timed checks of each ID: never enough to lock an unlocked one
WARM_UP = 300
Item = tuple[str, str, str]  # candidate ID, which proof, its value


def prepare(folder: Path, candidates: int) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Key store and index of ``candidates`` candidates; the env and (id, secret, code) each."""
    from results_online.build.inputs.load import load_series
    from results_online.build.verification.index import write_index
    from results_online.build.verification.seal import seal_series
    from results_online.keys.store import init_keys, load_keys

    init_keys(folder / "keys", date(2026, 1, 1))
    keys = load_keys(folder / "keys")
    series = load_series(EXAMPLE)
    entries = []
    for n, entry in zip(range(candidates), itertools.cycle(series.entries), strict=False):
        c = replace(entry.candidate, candidate_id=f"T{n:07d}", secret=f"{n * 7919 % 10**6:06d}",
                    number=f"{n:05d}")
        entries.append(replace(entry, candidate=c))
    big = replace(series, entries=tuple(entries), candidates=tuple(e.candidate for e in entries))
    statements = seal_series(big, keys)
    write_index(statements, keys.pepper, folder / "verify.sqlite")
    env = {"RESULTS_VERIFY_INDEX": str(folder / "verify.sqlite"),
           "RESULTS_VERIFY_KEYSET": str(folder / "keys"),
           "RESULTS_FAILURES_PER_ID": str(PER_ID),
           "RESULTS_FAILURES_PER_ADDRESS": str(10**9)}
    people = [(s.entry.candidate.candidate_id, s.entry.candidate.secret, s.share_code)
              for s in statements]
    return env, people


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory",
         "results_online.verify_app.app:from_environment", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--no-proxy-headers", "--log-level", "warning"],
        env=os.environ | env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the app did not start")


class Connection:
    """One kept-alive HTTP/1.1 connection sending prebuilt requests."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def prepare(self, item: Item) -> bytes:
        """The request bytes of one check, built before the timed loop."""
        return check(*item)

    def post(self, request: Any) -> tuple[int, bytes]:
        """Send one request; return (nanoseconds to the whole response, the body)."""
        t0 = time.perf_counter_ns()
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(rest) < length:
            rest += self.sock.recv(65536)
        elapsed = time.perf_counter_ns() - t0
        self.buf = rest[length:]
        return elapsed, head.split(b"\r\n")[0] + b" " + rest[:length]


class InProcess:
    """The app's own check (``Verifier``) called directly: no HTTP, no kernel, no client.

    Far less noise than loopback, so it shows differences of a microsecond or less in
    what the app does; its target is the same, but the loopback figures are what a
    verifier could see.
    """

    def __init__(self, env: dict[str, str]) -> None:
        from results_online.config.app import app_config_from_env
        from results_online.verify_app.state import open_state

        self.verifier = open_state(app_config_from_env(env)).verifier
        self.loop = asyncio.new_event_loop()
        self.scope = {"type": "http", "client": ("127.0.0.1", 40000), "headers": []}

    def prepare(self, item: Item) -> Item:
        """Nothing to build ahead."""
        return item

    def post(self, item: Any) -> tuple[int, bytes]:
        """Make one check; return (nanoseconds it took, what it answered)."""
        return self.loop.run_until_complete(self._timed(*item))

    async def _timed(self, candidate_id: str, field: str, value: str) -> tuple[int, bytes]:
        attempt = (self.verifier.attempt_share if field == "share_code"
                   else self.verifier.attempt)
        t0 = time.perf_counter_ns()
        found = await attempt(self.scope, candidate_id, value)
        return time.perf_counter_ns() - t0, repr(found).encode()


def request(body: str) -> bytes:
    data = body.encode()
    return (b"POST /api/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)


def check(candidate_id: str, field: str, value: str) -> bytes:
    import json

    return request(json.dumps({"candidate_id": candidate_id, field: value}))


def mann_whitney_z(a: list[int], b: list[int]) -> float:
    """z of the Mann-Whitney U statistic of a against b (normal approximation, tie-corrected)."""
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    ranks = [0.0] * len(pooled)
    ties = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    n1, n2 = len(a), len(b)
    r1 = sum(r for r, (_, g) in zip(ranks, pooled, strict=True) if g == 0)
    u = r1 - n1 * (n1 + 1) / 2
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    return (u - n1 * n2 / 2) / sigma if sigma else 0.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=3000, help="checks per kind")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--in-process", action="store_true",
                   help="call the app's check directly instead of over loopback")
    p.add_argument("--plant-us", type=float, default=0.0,
                   help="self-test: add this many µs to every 'wrong secret' time")
    args = p.parse_args()
    rng = random.Random(args.seed)
    pool = math.ceil(args.samples / USES)
    with tempfile.TemporaryDirectory() as tmp:
        env, people = prepare(Path(tmp), 4 * pool + 4)
        known, victims = people[:pool], people[pool:3 * pool]
        spare = people[3 * pool:3 * pool + 4]  # their share codes are "another statement's"
        unknown = [(f"U{n:07d}", f"{n % 10**6:06d}") for n in range(pool)]
        proc: subprocess.Popen[bytes] | None = None
        conn: Connection | InProcess
        if args.in_process:
            conn = InProcess(env)
        else:
            proc, port = serve(env)
            conn = Connection(port)
        try:
            for cid, secret in [(c, s) for c, s, _ in known] + unknown:  # see SEEDED
                conn.post(conn.prepare((cid, "secret_number", wrong(secret))))
            for cid, secret, _ in victims:  # lock them: PER_ID wrong secrets each
                for _ in range(PER_ID):
                    conn.post(conn.prepare((cid, "secret_number", wrong(secret))))
            kinds: dict[str, list[Item]] = {
                "unknown ID": [(cid, "secret_number", secret)
                               for cid, secret in unknown for _ in range(USES)],
                "wrong secret": [(cid, "secret_number", wrong(secret))
                                 for cid, secret, _ in known for _ in range(USES)],
                # Each locked ID is checked USES times in all, half wrong and half right.
                "locked, wrong": [(cid, "secret_number", wrong(secret))
                                  for cid, secret, _ in victims for _ in range(USES // 2)],
                "locked, right": [(cid, "secret_number", secret)
                                  for cid, secret, _ in victims for _ in range(USES // 2)],
                "share, unknown": [(f"U{n:07d}", "share_code", spare[n % 4][2])
                                   for n in range(args.samples)],
                "share, wrong": [(known[n % pool][0], "share_code", spare[n % 4][2])
                                 for n in range(args.samples)],
            }
            order = [(name, conn.prepare(item)) for name, items in kinds.items()
                     for item in items[:args.samples]]
            rng.shuffle(order)
            # Warm-up, not counted: share-code checks, which use up no ID's failures.
            for n in range(WARM_UP):
                conn.post(conn.prepare((f"W{n:07d}", "share_code", spare[n % 4][2])))
            times: dict[str, list[int]] = {name: [] for name in kinds}
            bodies = set()
            plant = round(args.plant_us * 1000)
            for name, req in order:
                elapsed, body = conn.post(req)
                times[name].append(elapsed + (plant if name == "wrong secret" else 0))
                bodies.add(body)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
    report(times, bodies)


def wrong(secret: str) -> str:
    return str((int(secret) + 1) % 10 ** len(secret)).zfill(len(secret))


def report(times: dict[str, list[int]], bodies: set[bytes]) -> None:
    print(f"{len(bodies)} distinct answer(s) over all kinds "
          f"({'byte-identical' if len(bodies) == 1 else 'NOT identical'})")
    for name, ts in times.items():
        print(f"  {name:15s} n={len(ts):5d}  median {statistics.median(ts) / 1000:8.1f} µs")
    worst = 0.0
    print("pair                               Δmedian µs      z")
    pairs = [(a, b) for a, b in itertools.combinations(times, 2)
             if a.startswith("share") == b.startswith("share")]
    for a, b in pairs:
        z = mann_whitney_z(times[a], times[b])
        worst = max(worst, abs(z))
        delta = (statistics.median(times[a]) - statistics.median(times[b])) / 1000
        flag = "  <-- |z|>=3" if abs(z) >= 3 else ""
        print(f"  {a:15s} vs {b:15s} {delta:+8.2f}  {z:+6.2f}{flag}")
    print(f"largest |z| {worst:.2f}; target every pair |z| < 3: "
          f"{'met' if worst < 3 and len(bodies) == 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
