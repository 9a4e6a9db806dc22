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

The output's long JSON files (manifest, outbox index, release plan) are written and
read here as streams, one item at a time, in the bytes ``json.dumps(indent=1)`` gives.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
    stale = [path for kind in ("new", "old")
             for path in _left_by_the_dead(out_dir.parent, f".{out_dir.name}.{kind}-", "*")]
    for path in stale:
        log.warning("removing %s, left by an interrupted build", path.name)
        shutil.rmtree(path, ignore_errors=True)
    return stale


def _left_by_the_dead(parent: Path, start: str, rest: str) -> list[Path]:
    """The folders ``start<pid>-...`` in ``parent`` (matching ``start + rest``) whose
    process no longer runs."""
    return [path for path in parent.glob(start + rest)
            if path.is_dir() and not path.is_symlink()
            and not _running(path.name[len(start):].split("-", 1)[0])]


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


def temp_prefix(kind: str) -> str:
    """The prefix of a build's or worker's temporary folder, named for its process."""
    return f"results-{kind}-{os.getpid()}-"


def remove_stale_temp(tmp: Path) -> list[Path]:
    """Remove the font and batch folders in ``tmp`` that processes no longer running left.

    A build or Dask worker killed mid-batch (SIGKILL, out of memory) cannot clean up,
    and a worker's batch folder may hold rendered statements: the next build, or
    worker set up, on the machine clears them.
    """
    stale = [path for kind in ("fonts", "batch")
             for path in _left_by_the_dead(tmp, f"results-{kind}-", "*-*")]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


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


class JsonText(str):
    """An item of a JSON list already encoded: ``write_json_list`` writes it as it is."""


def write_json_list(path: Path, key: str, items: Iterable[object], *,
                    ensure_ascii: bool = True, head: Mapping[str, object] | None = None) -> None:
    """Write a JSON object of ``head`` and ``key``: ``items``, one item a line, item by item.

    For the files that list every statement: neither the list nor the text is ever
    whole in memory, and each item is encoded in C (``json.dumps(indent=...)`` runs the
    pure-Python encoder, about a second per 10,000 items). A ``JsonText`` item (read by
    ``iter_json_texts``) is not encoded again.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # it may be a hard link into a previous output
    with path.open("w", encoding="utf-8") as f:
        start = json.dumps(dict(head or {}), ensure_ascii=ensure_ascii)[:-1]
        f.write(f'{start}{", " if head else ""}{json.dumps(key)}: [\n')
        for i, item in enumerate(items):
            text = item if isinstance(item, JsonText) else json.dumps(item,
                                                                      ensure_ascii=ensure_ascii)
            f.write((",\n" if i else "") + text)
        f.write("\n]}\n")


_CHUNK = 1 << 20
_COLON = re.compile(r"\s*:\s*")


def iter_json_list(path: Path, key: str) -> Iterator[Any]:
    """The items of ``{key: [items]}`` in a JSON file, one at a time (``key`` first in it).

    Reads what ``write_json_list`` writes without the whole file in memory;
    ValueError if the file is not such an object.
    """
    for _, item, _ in _scan(path, key, pairs=False):
        yield item


def iter_json_texts(path: Path, key: str) -> Iterator[tuple[Any, JsonText]]:
    """``iter_json_list``'s items, each with its text in the file (to be written again)."""
    for _, item, text in _scan(path, key, pairs=False):
        yield item, JsonText(text)


def iter_json_pairs(path: Path, key: str) -> Iterator[tuple[str, Any]]:
    """The name and value pairs of ``{key: {name: value, ...}}``, one at a time (``key`` first)."""
    for name, value, _ in _scan(path, key, pairs=True):
        yield str(name), value


def _scan(path: Path, key: str, *, pairs: bool) -> Iterator[tuple[Any, Any, str]]:
    decoder = json.JSONDecoder()
    opener, closer = ("{", "}") if pairs else ("[", "]")
    with path.open(encoding="utf-8") as f:
        head = re.compile(r"\s*\{\s*" + re.escape(json.dumps(key)) + r"\s*:\s*"
                          + re.escape(opener))
        buf = f.read(_CHUNK)
        while (start := head.match(buf)) is None and (more := f.read(_CHUNK)):
            buf += more
        if start is None:
            raise ValueError(f"{path} does not start with {opener} under {key!r}")
        pos = start.end()
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buf) and buf[pos] == closer:
                return
            try:
                name, value, at, end = _decode(decoder, buf, pos, pairs=pairs)
            except json.JSONDecodeError:
                more = f.read(_CHUNK)
                if not more:
                    raise ValueError(f"{path} ends inside its {opener}{closer}") from None
                buf, pos = buf[pos:] + more, 0
                continue
            yield name, value, buf[at:end]
            pos = end


def _decode(decoder: json.JSONDecoder, buf: str, pos: int, *,
            pairs: bool) -> tuple[Any, Any, int, int]:
    """One item (or name: value pair) at ``pos`` and where its value starts and ends;
    JSONDecodeError if ``buf`` ends inside it."""
    name = None
    if pairs:
        name, end = decoder.raw_decode(buf, pos)
        colon = _COLON.match(buf, end)
        if colon is None or colon.end() == len(buf):
            raise json.JSONDecodeError("no value yet", buf, end)
        pos = colon.end()
    value, end = decoder.raw_decode(buf, pos)
    if end == len(buf):  # a number may go on in the next chunk: read it first
        raise json.JSONDecodeError("the value may go on", buf, end)
    return name, value, pos, end
