"""What a centre's bundle costs in bytes, and what in it is stored twice.

    .venv/bin/python benchmarks/bundle_size.py [--candidates 200] [--seal]

Renders one centre of ``--candidates`` candidates (half STEP, half B2 First, names
from many scripts), makes its bundle zip as the build does (``centre_zip``) and
encrypts it as the build does, then prints the zip's entries grouped (compressed
bytes in the zip): the per-candidate PDFs, ``statements.pdf``, and the files a
centre has once (results.csv/.xlsx, index.html, the explanation). Also how many
bytes of ``statements.pdf`` are streams that repeat across its pages (what a join
could share), read with pikepdf.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import psutil
import pyrage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from factories import NOW, make_keys, synthetic_series  # noqa: E402

from results_online.build.bundle.centre import centre_zip, encrypt_to, sealed_explanation  # noqa: E402
from results_online.build.render.statements import render_statements  # noqa: E402
from results_online.build.verification.seal import seal_series  # noqa: E402
from results_online.keys.seal import init_seal_cert, load_seal  # noqa: E402
from results_online.progress import no_progress  # noqa: E402

FIXED = ("index.html", "results.csv", "results.xlsx", "explanation-of-results.pdf")


def repeated_stream_bytes(data: bytes) -> tuple[int, int]:
    """(bytes of all streams, bytes of streams that are copies of an earlier one)."""
    seen: Counter[str] = Counter()
    total = repeated = 0
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                raw = obj.read_raw_bytes()
                digest = hashlib.sha256(raw).hexdigest()
                total += len(raw)
                if seen[digest]:
                    repeated += len(raw)
                seen[digest] += 1
    return total, repeated


def main() -> None:
    """Build one centre's bundle and print its size, part by part."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seal", action="store_true", help="seal every PDF (PAdES)")
    args = parser.parse_args()
    print(f"load average {psutil.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bundle-size-") as tmp:
        folder = Path(tmp)
        keys = make_keys(folder / "keys")
        seal = None
        if args.seal:
            init_seal_cert(folder / "keys", "Example Board", datetime(2026, 8, 1, tzinfo=UTC),
                           b"pass phrase")
            seal = load_seal(folder / "keys", b"pass phrase")
        series = synthetic_series(args.candidates, per_centre=args.candidates)
        rendered = render_statements(seal_series(series, keys), folder / "out", workers=2,
                                     batch_size=50, progress=no_progress, now=NOW, seal=seal)
        centre = series.centres[0]
        explanation = sealed_explanation(series, now=NOW, seal=seal)
        data = centre_zip(series, centre, rendered, explanation, now=NOW, seal=seal)
        recipient = str(pyrage.x25519.Identity.generate().to_public())
        encrypted = len(encrypt_to(data, replace(centre, recipients=(recipient,))))
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            joined = zf.read("statements.pdf")
        n = len(rendered)
        fixed = sum(i.compress_size for i in infos if i.filename in FIXED)
        whole = next(i for i in infos if i.filename == "statements.pdf")
        singles = [i for i in infos if i.filename not in FIXED and i not in (whole,)]
        single = sum(i.compress_size for i in singles)
        print(f"{n} statements, seal {'on' if seal else 'off'}; bytes as stored in the zip "
              "(deflated):")
        print(f"  per-candidate PDFs   {single:>10,}  ({single / n:,.0f} a candidate; "
              f"{sum(i.file_size for i in singles) / n:,.0f} before deflate)")
        print(f"  statements.pdf       {whole.compress_size:>10,}  "
              f"({whole.compress_size / n:,.0f} a page; {whole.file_size:,} before deflate)")
        for i in infos:
            if i.filename in FIXED:
                print(f"  {i.filename:<20} {i.compress_size:>10,}")
        print(f"  zip {len(data):,}, encrypted bundle {encrypted:,} bytes: "
              f"{encrypted / n:,.0f} a candidate; the once-a-centre files {fixed:,}")
        streams, repeated = repeated_stream_bytes(joined)
        print(f"  statements.pdf streams {streams:,} bytes, of which {repeated:,} "
              f"({repeated / max(streams, 1):.0%}) repeat a stream of another page")


if __name__ == "__main__":
    main()
