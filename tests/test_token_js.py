"""templates/token.js and results_online/token.py accept and reject the same bodies.

Thousands of bodies near the valid ones (every byte set to each edge value, then random
changes, cuts and insertions) are decoded by both; they must agree on every one, field for field.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest
import reject_vectors as rv
import token_vectors as tv

from results_online import token as tk
from results_online.errors import InvalidToken

NODE = shutil.which("node")
SCRIPT = Path(__file__).parent / "js" / "decode_each.mjs"
EDGES = (0, 1, 2, 48, 49, 250, 251, 254, 255)


def _mutants(body: bytes, rng: random.Random, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        b = bytearray(body)
        for _ in range(rng.randint(1, 3)):
            if not b:
                break
            i = rng.randrange(len(b))
            kind = rng.random()
            if kind < 0.5:
                b[i] = rng.choice(EDGES) if rng.random() < 0.5 else rng.randrange(256)
            elif kind < 0.7:
                del b[i]
            elif kind < 0.9:
                b.insert(i, rng.randrange(256))
            else:
                b[i:] = b[i:i + rng.randrange(4)]
        out.append(bytes(b))
    return out


def _python(token: bytes) -> dict[str, object] | None:
    try:
        d = tk.decode_unverified(token)
    except InvalidToken:
        return None
    return {"key_id": d.key_id.hex(), "statement_id": d.statement_id.hex(),
            "revision": d.revision, "issue_date": d.issue_date.isoformat(),
            "series_year": d.series_year, "series_month": d.series_month, "test": d.test,
            "candidate_number": d.candidate_number, "name": d.name,
            "results": [asdict(r) for r in d.results]}


@pytest.mark.skipif(NODE is None, reason="node is installed by scripts/bootstrap.sh")
def test_both_decoders_agree_on_every_body_near_the_valid_ones() -> None:
    rng = random.Random(20261201)
    bodies = [bytes.fromhex(tv.stored(n)["body_hex"]) for n in sorted(tv.CASES)]
    bodies += [rv.Body(test=b"FCE", entries=(rv._SKILL, (b"", 150, b"", b"B1"))).raw()]
    # The bodies each reject vector's rule refuses, and those near them.
    for name in sorted(rv.CASES):
        v = rv.stored(name)
        if v["rejected_by"] == "decode":
            bodies.append(tk.from_qr_text(v["qr_text"])[:-64])
    # Every byte set to every edge value, then random changes, cuts and insertions.
    swept = [body[:i] + bytes([e]) + body[i + 1:] for body in bodies
             for i in range(len(body)) for e in EDGES]
    tokens = [m + bytes(64) for m in swept]
    tokens += [m + bytes(64) for body in bodies for m in [body, *_mutants(body, rng, 800)]]
    tokens += [bytes(n) for n in range(0, 100, 7)]
    run = subprocess.run([str(NODE), str(SCRIPT)], input=json.dumps([t.hex() for t in tokens]),
                         capture_output=True, text=True, check=True, timeout=120)
    theirs = json.loads(run.stdout)
    ours = [_python(t) for t in tokens]
    accepted = sum(o is not None for o in ours)
    assert 0.1 * len(tokens) < accepted < 0.9 * len(tokens)  # both kinds well represented
    disagree = [(t.hex(), o, j) for t, o, j in zip(tokens, ours, theirs, strict=True) if o != j]
    assert disagree == []
