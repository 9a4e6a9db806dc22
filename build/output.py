"""Write a whole output folder beside the old one, then swap, so failures lose nothing.

The new output is staged in a hidden sibling, ``.<OUT>.new-<pid>-*``. A build that is
killed (SIGKILL, power loss) cannot clean up after itself, and its staging holds plain
statements, so every build first removes the ``.<OUT>.new-*`` and ``.<OUT>.old-*``
folders of that OUT whose build process no longer runs (the pid in the name; a
folder of a build still running is left alone).

The swap exchanges the two folders in one step with Linux's
``renameat2(RENAME_EXCHANGE)`` (called through ctypes), so OUT is never missing, not
even for an instant, and stays a real folder. A symlink flip would also be atomic,
but it turns OUT into a link: copies, rsync and static hosts would then see a link
rather than the folder operators know. Where the call does not exist (not Linux,
glibc before 2.28, a file system without it), the swap falls back to two renames
with a short gap, and says so in the log.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """Yield an empty sibling folder; on success it replaces ``out_dir``, on error it goes."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(out_dir, "new"), dir=out_dir.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_in(tmp, out_dir)


def _prefix(out_dir: Path, kind: str) -> str:
    return f".{out_dir.name}.{kind}-{os.getpid()}-"


def _running(pid_text: str) -> bool:
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale(out_dir: Path) -> list[Path]:
    """Remove staging and old folders that dead builds of ``out_dir`` left; return them."""
    stale = []
    for kind in ("new", "old"):
        start = f".{out_dir.name}.{kind}-"
        for path in out_dir.parent.glob(start + "*"):
            pid = path.name[len(start):].split("-", 1)[0]
            if path.is_dir() and not path.is_symlink() and not _running(pid):
                stale.append(path)
    for path in stale:
        log.warning("removing %s, left by an interrupted build", path.name)
        shutil.rmtree(path, ignore_errors=True)
    return stale


def swap_in(new: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``new``: exchanged atomically, then the old folder is removed."""
    os.chmod(new, 0o755)  # noqa: S103 - mkdtemp makes 0700; the site is public
    if not out_dir.exists():
        os.replace(new, out_dir)  # nothing to exchange with: one atomic rename
        return
    if _exchange(new, out_dir):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old output
        return
    log.warning("atomic folder exchange is not available here: swapping with two renames")
    old = Path(tempfile.mkdtemp(prefix=_prefix(out_dir, "old"), dir=out_dir.parent))
    os.rmdir(old)
    os.replace(out_dir, old)
    try:
        os.replace(new, out_dir)
    except BaseException:
        os.replace(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False if this system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def carry(source: Path, dest: Path) -> None:
    """Put ``source``'s bytes at ``dest`` without copying them: a hard link, else a copy.

    Safe because no stage rewrites a file in place: every writer makes a new file.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    _link(os.fspath(source), os.fspath(dest))


class Carrier:
    """``carry`` for many files into a new folder: each folder made once, no checks before.

    An amend carries every unchanged statement's files (four each), so at 10,000
    candidates the path objects and stat calls of ``carry`` cost seconds.
    """

    def __init__(self) -> None:
        self._made: set[str] = set()

    def carry(self, source: str, dest: str) -> bool:
        """Carry ``source`` to a ``dest`` that does not exist yet; False if there is no source."""
        folder = os.path.dirname(dest)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        try:
            _link(source, dest)
        except FileNotFoundError:
            return False
        return True


def _link(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except FileNotFoundError:
        raise
    except OSError:  # another filesystem, or one without hard links
        shutil.copy2(source, dest)


def json_rows(head: Mapping[str, object], key: str, rows: Sequence[object], *,
              ensure_ascii: bool = True) -> str:
    """A JSON object of ``head`` and ``key``: ``rows``, one row a line.

    For the files that list every statement: ``json.dumps(indent=...)`` runs the
    pure-Python encoder, about a second per 10,000 rows; each row here is encoded in C.
    """
    start = json.dumps(dict(head), ensure_ascii=ensure_ascii)[:-1]
    lines = ",\n".join(json.dumps(r, ensure_ascii=ensure_ascii) for r in rows)
    return f'{start}{", " if head else ""}"{key}": [\n{lines}\n]}}\n'
