"""Compare two build outputs file for file, opening what is encrypted with fresh randomness.

Ciphertext (``s/<id>.bin``, centre bundles) and multipart e-mails (their boundary) differ
between two runs by design, so those are compared by what they decrypt or parse to;
the index by its rows; every other file by its bytes.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyrage
from release_support import EXAMPLE, read_rows, write_rows

from results_online.build.site.encrypt import decrypt_statement
from results_online.ids import content_key
from results_online.keys.store import init_keys, load_keys


@dataclass(frozen=True)
class Series:
    """A series folder with its own key store and one age identity per centre."""

    folder: Path
    keys: Path
    identities: dict[str, pyrage.x25519.Identity]


def example_series(tmp: Path) -> Series:
    """The whole STEP example (three centres), each centre encrypting to a fresh identity."""
    folder = tmp / "series"
    shutil.copytree(EXAMPLE, folder)
    rows = read_rows(folder / "centres.csv")
    identities = {r["centre_number"]: pyrage.x25519.Identity.generate() for r in rows}
    write_rows(folder / "centres.csv", [
        {**r, "recipients": str(identities[r["centre_number"]].to_public())} for r in rows])
    keys = tmp / "keys"
    init_keys(keys, date(2026, 8, 1))
    return Series(folder, keys, identities)


def change_mark(folder: Path, candidate_id: str) -> None:
    """A results enquiry: one of the candidate's marks goes up (the board regrades it)."""
    rows = read_rows(folder / "results.csv")
    row = next(r for r in rows if r["candidate_id"] == candidate_id and r["mark"].isdigit())
    row["mark"] = str(min(120, int(row["mark"]) + 20))
    row["grade"] = ""
    write_rows(folder / "results.csv", rows)


def files(out: Path) -> set[str]:
    """Every file under ``out``, relative."""
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def readable(out: Path, rel: str, series: Series) -> object:
    """What a file says, independent of the randomness its encryption used."""
    path = out / rel
    if rel.endswith(".bin"):
        secret = load_keys(series.keys).statement_secret
        sid = path.stem
        content = decrypt_statement(content_key(secret, sid), sid, path.read_bytes())
        return (content.fragment_html, content.pdf)
    if rel.endswith(".zip.age"):
        centre = Path(rel).parent.name
        return pyrage.decrypt(path.read_bytes(), [series.identities[centre]])
    if rel.endswith(".eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        parts = [p.get_content() for p in msg.walk() if not p.is_multipart()]
        return (sorted((k, str(v)) for k, v in msg.items() if k != "Content-Type"), parts)
    if rel.endswith(".sqlite"):
        con = sqlite3.connect(path)
        try:
            return (sorted(con.execute("SELECT * FROM meta")),
                    sorted(con.execute("SELECT * FROM statements")))
        finally:
            con.close()
    return path.read_bytes()


def differences(a: Path, b: Path, series: Series,
                instead: Mapping[str, Path] | None = None) -> list[str]:
    """Files that differ between outputs ``a`` and ``b`` (``instead``: compare a file of
    ``a`` with the same file under another output)."""
    names_a, names_b = files(a), files(b)
    out = [f"only in one: {n}" for n in sorted(names_a ^ names_b)]
    for rel in sorted(names_a & names_b):
        other = (instead or {}).get(rel, b)
        if readable(a, rel, series) != readable(other, rel, series):
            out.append(rel)
    return out
