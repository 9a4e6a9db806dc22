"""The README's main job: build the bundled examples and serve them on localhost.

Everything the demo makes lives in this clone's `.demo/` (git-ignored; `--home`
chooses another folder): a key store, one age identity per example centre and the
builds. The example series are copied there with each centre's age recipient
replaced by a demo identity (so the bundles really open, in the browser or with
`age -d -i`), and with their dates moved by whole days so that now (or `--now`)
falls within a day after the candidates' release: deadlines, enquiry links and the
statements are live, not "passed" or "forthcoming", also in a browser whose clock
is the real one.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pyrage import x25519

from results_online.ids import share_code
from results_online.keys.store import load_keys

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {"step-2026-06": (8000, 8001), "cambridge-2026-06": (8010, 8011)}
DATE_KEYS = ("centres_release", "candidates_release", "available_until", "issue_date")


def demo_home() -> Path:
    """The demo's folder: inside this clone, so two clones never share one."""
    return ROOT / ".demo"


def release_shift(series_toml: Path, now: datetime) -> timedelta:
    """Whole days that put the candidates' release within the day before ``now``."""
    doc = tomllib.loads(series_toml.read_text(encoding="utf-8"))
    released: datetime = doc["candidates_release"]
    return timedelta(days=(now - released) // timedelta(days=1))


def shift_dates(toml: str, shift: timedelta) -> str:
    """series.toml text with its release dates moved by ``shift``."""
    doc = tomllib.loads(toml)
    for key in DATE_KEYS:
        if key not in doc:
            continue
        value: date = doc[key]  # a TOML date or offset date-time
        toml = re.sub(rf"(?m)^{key}\s*=\s*\S+", f"{key} = {(value + shift).isoformat()}", toml)
    return toml


def results(*args: str) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "results"), *args], check=True)


def prepare_series(name: str, home: Path, site: int, app: int, shift: timedelta) -> Path:
    """Copy an example, pointing it at local ports and demo identities, its dates shifted."""
    src = ROOT / "examples" / name
    dst = home / "series" / name
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    toml = (dst / "series.toml").read_text(encoding="utf-8")
    toml = re.sub(r'(?m)^site_url\s*=.*$', f'site_url = "http://127.0.0.1:{site}"', toml)
    toml = re.sub(r'(?m)^verify_url\s*=.*$', f'verify_url = "http://127.0.0.1:{app}"', toml)
    toml = shift_dates(toml, shift)
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


def print_samples(name: str, series: Path, out: Path, home: Path, site_port: int) -> None:
    """What to try: a secure link, an ID and secret to verify with, the centres' open page."""
    print(f"\n{name}: output in {out}")
    print(f"  public site (what a CDN serves): {out / 'site'}")
    print(f"  private (never published):       {out / 'private'}")
    links = out / "private" / "links.csv"
    first = None
    if links.exists():
        with links.open(encoding="utf-8-sig", newline="") as f:
            first = next(csv.DictReader(f), None)
    if first:
        print(f"  sample secure link:   {first['link']}")
        with (series / "candidates.csv").open(encoding="utf-8-sig", newline="") as f:
            who = next((c for c in csv.DictReader(f)
                        if c["candidate_id"] == first["candidate_id"]), None)
        if who:
            print(f"  sample candidate ID:  {who['candidate_id']}  secret number: "
                  f"{who['secret_number']}")
        secret = load_keys(home / "keys").statement_secret
        print(f"  sample share code:    {share_code(secret, first['statement_id'])}"
              "  (give it with the candidate ID instead of the secret number)")
    # A centre whose bundle is live on the site at the demo's time.
    centre = next(iter(sorted((out / "site" / "c").glob("*"))), None)
    if centre is not None:
        print(f"  centres open page:    http://127.0.0.1:{site_port}/centres/open/?centre="
              f"{centre.name}\n    with the identity file "
              f"{home / 'identities' / (centre.name + '.txt')}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-serve", action="store_true", help="build only")
    p.add_argument("--now", help="build as at this ISO 8601 time (default: the real time); "
                                 "the examples' dates are moved to put it just after the "
                                 "candidates' release")
    p.add_argument("--home", type=Path, default=demo_home(),
                   help="where the demo keeps keys, identities and builds (default: .demo/ "
                        "in this clone)")
    args = p.parse_args()
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    if now.tzinfo is None:
        p.error("--now needs a UTC offset, e.g. 2026-08-13T10:00:00+01:00")
    home: Path = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys = home / "keys"
    if not (keys / "keyset.json").exists():
        # Dated well before any shifted issue date, so the statements verify.
        results("keys", "init", "--keys", str(keys), "--valid-from", "2026-01-01")
    procs: list[subprocess.Popen[bytes]] = []
    print(f"demo time: {now.isoformat()} (builds and release checks use it)")
    for name, (site_port, app_port) in EXAMPLES.items():
        shift = release_shift(ROOT / "examples" / name / "series.toml", now)
        series = prepare_series(name, home, site_port, app_port, shift)
        out = home / "out" / name
        results("build", str(series), "--keys", str(keys), "--out", str(out),
                "--now", now.isoformat())
        print_samples(name, series, out, home, site_port)
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
