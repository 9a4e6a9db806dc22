"""Write a whole output folder beside the old one, then swap, so failures lose nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """Yield an empty sibling folder; on success it replaces ``out_dir``, on error it goes."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_in(tmp, out_dir)


def swap_in(new: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``new`` with renames; the old folder is removed last."""
    os.chmod(new, 0o755)  # noqa: S103 - mkdtemp makes 0700; the site is public
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.rmdir(old)
        os.replace(out_dir, old)
    try:
        os.replace(new, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def carry(source: Path, dest: Path) -> None:
    """Put ``source``'s bytes at ``dest`` without copying them: a hard link, else a copy.

    Safe because no stage rewrites a file in place: every writer makes a new file.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    try:
        os.link(source, dest)
    except OSError:  # another filesystem, or one without hard links
        shutil.copy2(source, dest)
