"""The README's main job: build the bundled examples and serve them on localhost.

Key material and centre identities are made once, outside the repository, in
$XDG_DATA_HOME/results-online/demo (default ~/.local/share/...). The example series
are copied there with each centre's age recipient replaced by a demo identity, so
the bundles built here can really be opened with `age -d -i`.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pyrage import x25519

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {"step-2026-06": (8000, 8001), "cambridge-2026-06": (8010, 8011)}


def demo_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "results-online" / "demo"


def results(*args: str) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "results"), *args], check=True)


def prepare_series(name: str, home: Path, site: int, app: int) -> Path:
    """Copy an example, pointing it at local ports and at demo centre identities."""
    src = ROOT / "examples" / name
    dst = home / "series" / name
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    toml = (dst / "series.toml").read_text(encoding="utf-8")
    toml = re.sub(r'(?m)^site_url\s*=.*$', f'site_url = "http://127.0.0.1:{site}"', toml)
    toml = re.sub(r'(?m)^verify_url\s*=.*$', f'verify_url = "http://127.0.0.1:{app}"', toml)
    (dst / "series.toml").write_text(toml, encoding="utf-8")
    ids = home / "identities"
    ids.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (dst / "centres.csv").open(encoding="utf-8-sig", newline="") as f:
        sample = f.read(4096)
        f.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;")
        rows = list(csv.DictReader(f, dialect=dialect))
    for row in rows:
        ident_file = ids / f"{row['centre_number']}.txt"
        if not ident_file.exists():
            ident = x25519.Identity.generate()
            ident_file.write_text(str(ident) + "\n")
            ident_file.chmod(0o600)
        ident = x25519.Identity.from_str(ident_file.read_text().strip())
        row["recipients"] = str(ident.to_public())
    with (dst / "centres.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return dst


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--no-serve", action="store_true", help="build only")
    args = p.parse_args()
    home = demo_home()
    keys = home / "keys"
    if not (keys / "keyset.json").exists():
        # Dated before the examples' issue dates, so their statements verify.
        results("keys", "init", "--keys", str(keys), "--valid-from", "2026-01-01")
    procs: list[subprocess.Popen[bytes]] = []
    for name, (site_port, app_port) in EXAMPLES.items():
        series = prepare_series(name, home, site_port, app_port)
        out = home / "out" / name
        results("build", str(series), "--keys", str(keys), "--out", str(out))
        print(f"\n{name}: output in {out}")
        print(f"  public site (what a CDN serves): {out / 'site'}")
        print(f"  private (never published):       {out / 'private'}")
        print(f"  centre identities for `age -d -i`: {home / 'identities'}")
        links = out / "private" / "links.csv"
        if links.exists():
            with links.open(encoding="utf-8") as f:
                first = next(csv.DictReader(f), None)
            if first:
                print(f"  sample secure link: {first['link']}")
        if args.no_serve:
            continue
        bin_ = str(ROOT / ".venv" / "bin" / "results")
        procs.append(subprocess.Popen([bin_, "serve", str(out), "--port", str(site_port)]))
        procs.append(subprocess.Popen([
            bin_, "verify-app", "--index", str(out / "private" / "verify.sqlite"),
            "--keyset", str(keys), "--port", str(app_port),
        ]))
        print(f"  site:             http://127.0.0.1:{site_port}/")
        print(f"  verification app: http://127.0.0.1:{app_port}/")
        centre = next(iter(sorted((out / "site" / "c").glob("*"))), None)
        if centre is not None:
            print(f"  centres open page: http://127.0.0.1:{site_port}/centres/open/?centre="
                  f"{centre.name} (identity file {home / 'identities' / (centre.name + '.txt')})")
    if not procs:
        return 0
    print(f"\nserving since {datetime.now(UTC):%H:%M UTC}; Ctrl-C stops")
    signal.signal(signal.SIGTERM, _stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
