"""File names and paths every stage and reader agrees on, and the one rule for a safe name."""

from __future__ import annotations

import re
from pathlib import Path

from results_online.errors import BuildError

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

BLOB_FOLDER = "s"  # statement ciphertext on the site
STATEMENT_EXTENSIONS = (".pdf", ".html")  # what rendering writes per statement


def safe_name(part: str) -> str:
    """``part`` if it is safe as one file name component, else BuildError."""
    if not _SAFE_NAME.fullmatch(part):
        raise BuildError(f"{part!r} cannot be used in a file name",
                         hint="centre numbers, candidate numbers, test and series codes "
                              "must be letters, digits, '.', '_' or '-'")
    return part


def statement_stem(centre: str, candidate_number: str, test: str) -> str:
    """A rendered statement's path without extension: ``<centre>/<number>-<test>``."""
    return f"{safe_name(centre)}/{safe_name(candidate_number)}-{safe_name(test)}"


def statement_files(folder: Path, centre: str, candidate_number: str,
                    test: str) -> tuple[Path, Path]:
    """A rendered statement's PDF and web page under ``folder``."""
    stem = folder / statement_stem(centre, candidate_number, test)
    return (stem.with_name(stem.name + STATEMENT_EXTENSIONS[0]),
            stem.with_name(stem.name + STATEMENT_EXTENSIONS[1]))


def blob_path(statement_id: str) -> str:
    """Where a statement's ciphertext is published: ``s/<id>.bin``."""
    return f"{BLOB_FOLDER}/{statement_id}.bin"


def bundle_path(centre: str, series_code: str) -> str:
    """Where a centre's encrypted bundle is published: ``c/<centre>/<series>.zip.age``."""
    return f"c/{safe_name(centre)}/{safe_name(series_code)}.zip.age"


def status_list_path(series_code: str) -> str:
    """Where the public status list of a series is published."""
    return f"status/{safe_name(series_code)}.json"
