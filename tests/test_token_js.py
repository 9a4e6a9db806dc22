"""templates/token.js and results_online/token.py accept and reject the same bodies.

Thousands of bodies near the valid ones (every byte set to each edge value, then random
changes, cuts and insertions) are decoded by both; they must agree on every one, field for field.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import reject_vectors as rv

from results_online import token as tk
from results_online.errors import InvalidToken

NODE = shutil.which("node")
SCRIPT = Path(__file__).parent / "js" / "decode_each.mjs"


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


def test_both_decoders_agree_on_every_body_near_the_valid_ones() -> None:
    assert NODE is not None, "scripts/bootstrap.sh installs nodejs"
    tokens = [body + bytes(64) for body in rv.near_bodies()]
    tokens += [bytes(n) for n in range(0, 100, 7)]
    run = subprocess.run([str(NODE), str(SCRIPT)], input=json.dumps([t.hex() for t in tokens]),
                         capture_output=True, text=True, check=True, timeout=120)
    theirs = json.loads(run.stdout)
    ours = [_python(t) for t in tokens]
    accepted = sum(o is not None for o in ours)
    assert 0.1 * len(tokens) < accepted < 0.9 * len(tokens)  # both kinds well represented
    disagree = [(t.hex(), o, j) for t, o, j in zip(tokens, ours, theirs, strict=True) if o != j]
    assert disagree == []
