"""How long /centres/open takes to fetch, decrypt (typage) and unzip (fflate) a large bundle.

Builds the STEP example once, then replaces one centre's bundle with a zip in the
overview's shape (a link per statement) and N statement PDFs (copies of a real one,
so the zip compresses as a real one does), encrypted with pyrage to a fresh
identity; Debian's chromium opens it on the page as an officer would, several
times. Prints bundle size, time from "Open results" to the overview shown (median
and worst), and MB/s. No target: it tells how large a centre's bundle can get.

    .venv/bin/python benchmarks/centre_open.py [--statements 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import pyrage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from localhost import chromium, free_port, results_server  # noqa: E402
from test_browser import build_example  # noqa: E402

from results_online.keys.store import init_keys  # noqa: E402

CENTRE = "00871"


def big_bundle(out: Path, identity: pyrage.x25519.Identity, statements: int) -> int:
    """Replace CENTRE's bundle with one of ``statements`` PDFs; its size in bytes."""
    pdfs = sorted((out / "private" / "statements" / CENTRE).glob("*.pdf"))
    real = pdfs[0].read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        links = "".join(f"<a href='statements/{i:04d}-STEP.pdf'>PDF</a>" for i in range(statements))
        zf.writestr("index.html", "<!DOCTYPE html><html><body><main><div id='overview'>"
                    f"<h1>Results Overview</h1>{links}</div></main></body></html>")
        zf.writestr("results.csv", "x\r\n" * statements * 5)
        zf.writestr("statements.pdf", real * statements)
        for i in range(statements):
            zf.writestr(f"statements/{i:04d}-STEP.pdf", real)
    data = pyrage.encrypt(buffer.getvalue(), [identity.to_public()])
    path = out / "site" / "c" / CENTRE / "2026-06.zip.age"
    path.write_bytes(data)
    return len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        shutil.copytree(ROOT / "examples" / "step-2026-06", tmp / "series")
        toml = (tmp / "series" / "series.toml").read_text(encoding="utf-8")
        toml = re.sub(r"(?m)^(site_url|verify_url)\s*=.*$", rf'\1 = "{base}"', toml)
        (tmp / "series" / "series.toml").write_text(toml, encoding="utf-8")
        init_keys(tmp / "keys", date(2026, 1, 1))
        build_example(tmp / "series", tmp / "keys", tmp / "out")
        identity = pyrage.x25519.Identity.generate()
        (tmp / "id.txt").write_text(f"{identity}\n", encoding="utf-8")
        size = big_bundle(tmp / "out", identity, args.statements)
        times = []
        with results_server(["serve", str(tmp / "out"), "--port", str(port)], base + "/",
                            stdout=subprocess.DEVNULL), chromium() as browser:
            for _ in range(args.runs):
                page = browser.new_page()
                page.goto(f"{base}/centres/open/?centre={CENTRE}")
                page.wait_for_selector("main[data-state=ready]")
                page.set_input_files("#identity", str(tmp / "id.txt"))
                start = time.perf_counter()
                page.click("#open")
                page.wait_for_selector("main[data-state=open]", timeout=300_000)
                times.append(time.perf_counter() - start)
                page.close()
    mb = size / 1e6
    print(f"bundle: {args.statements} statements, {mb:.1f} MB encrypted")
    print(f"open (fetch + decrypt + unzip + show), {args.runs} runs: median "
          f"{statistics.median(times):.2f} s, worst {max(times):.2f} s, "
          f"{mb / statistics.median(times):.1f} MB/s")


if __name__ == "__main__":
    main()
