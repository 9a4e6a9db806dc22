"""A throw-away PostgreSQL server on 127.0.0.1 (Debian's package), for tests and benchmarks.

PostgreSQL refuses to run as root, so when we are root the server runs as a system
user made for it (``results-pg``), in a temporary folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localhost import free_port

PG_USER = "results-pg"


def pg_bin() -> Path | None:
    """The folder of Debian's newest PostgreSQL programs, if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _run_as() -> str | None:
    """The user to run the server as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", PG_USER], check=True)
    return PG_USER


@contextmanager
def postgres_server(*, fsync: bool = False) -> Iterator[str]:
    """Start a server for the duration; yield its ``postgresql://`` URL.

    Tests run it with fsync off: a test database need not survive a power cut, and it
    spares the shared disk. Benchmarks keep it on, as production would.
    """
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is installed by scripts/bootstrap.sh")
    user = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="results-pg-"))
    if user:
        shutil.chown(folder, user)
    data, port = folder / "data", free_port()
    def run(*args: str) -> None:
        subprocess.run([str(bindir / args[0]), *args[1:]], user=user, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)

    try:
        run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-locale")
        run("pg_ctl", "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if fsync else 'off'} -c max_connections=200", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run("pg_ctl", "-D", str(data), "-w", "-m", "fast", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
