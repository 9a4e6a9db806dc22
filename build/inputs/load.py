"""LOAD stage: a series folder → a validated, typed ``Series``.

    series.toml     series settings and tests          (build/seriesfile.py)
    centres.csv     centres and their age recipients
    candidates.csv  candidates, their IDs and secret numbers
    results.csv     one row per candidate per paper or skill  (build/entries.py)

Every problem in every file is collected and raised together in one
``InputError``, each naming file, row and column. Messages never repeat a
secret number, a candidate ID or an age identity. Each CSV is read once, row
by row (``scan_series``); what rows are checked against, and the valid entries,
lie in a spool (spool.py), so memory does not grow with the files.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pyrage

from results_online.build.inputs.csvtable import Row, iter_table, read_table, valid_email
from results_online.build.inputs.entries import Known, read_entries
from results_online.build.inputs.seriesfile import read_series_file
from results_online.build.inputs.spool import Spool
from results_online.errors import InputError, Problem
from results_online.index import canonical_candidate_id
from results_online.model import Candidate, Centre, Series

CENTRES, CANDIDATES, RESULTS = "centres.csv", "candidates.csv", "results.csv"
CENTRE_COLUMNS = ("centre_number", "centre_name", "email", "recipients")
CANDIDATE_COLUMNS = ("candidate_id", "centre_number", "candidate_number", "name", "email",
                     "secret_number")
RESULT_COLUMNS = ("candidate_id", "test", "component", "mark")
RESULT_OPTIONAL = ("grade", "cefr", "centre_number")
SECRET_MIN, SECRET_MAX = 4, 12
MAX_NAME = 100  # characters of a candidate's or a centre's name (docs/input.md)
# Centre and candidate numbers end up in file names and URLs: keep them plain.
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
_CANDIDATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_ASCII_MAIL = "(ASCII; an international domain in its xn-- form)"  # valid_email's rule


def load_series(folder: Path) -> Series:
    """Read and validate a series folder; raise InputError listing every problem."""
    spool = Spool(":memory:")
    try:
        head = scan_series(folder, spool)
        return replace(head, candidates=tuple(c for c, _ in spool.candidates()),
                       entries=tuple(spool.entries()))
    finally:
        spool.close()


def scan_series(folder: Path, spool: Spool) -> Series:
    """Validate a series folder in one pass over each file, its entries written to ``spool``.

    Returns the series without its candidates and entries (``Spool.entries`` has
    them); raises InputError listing every problem. Memory does not grow with the
    files: what rows are checked against lies in the spool.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(str(folder), None, None, "is not a series folder")])
    problems: list[Problem] = []
    settings = read_series_file(folder, problems)
    centre_rows = read_table(folder / CENTRES, CENTRE_COLUMNS, (), problems)
    centres = _centres(centre_rows or [], problems)
    spool.share(settings.info, settings.tests, centres)
    # Cross-checks use every number or ID a file lists, valid or not, so one bad row
    # in candidates.csv does not also make all its results "unknown".
    centre_numbers = _listed(centre_rows, "centre_number")
    candidate_rows = iter_table(folder / CANDIDATES, CANDIDATE_COLUMNS, (), problems)
    _candidates(candidate_rows or [], centre_numbers, spool, problems)
    result_rows = iter_table(folder / RESULTS, RESULT_COLUMNS, RESULT_OPTIONAL, problems)
    known = Known(settings.tests, spool, settings.test_codes, candidate_rows is not None,
                  centre_numbers)
    read_entries(result_rows or [], known, problems)
    if problems or settings.info is None:
        order = ["series.toml", CENTRES, CANDIDATES, RESULTS]
        problems.sort(key=lambda p: (order.index(p.file) if p.file in order else 0, p.row or 0))
        raise InputError(problems or [Problem("series.toml", None, None, "cannot be used")])
    spool.forget_checks()
    return Series(settings.info, settings.tests, centres, (), ())


def _listed(rows: list[Row] | None, column: str) -> frozenset[str] | None:
    return None if rows is None else frozenset(row[column] for row in rows)


def _centres(rows: list[Row], problems: list[Problem]) -> tuple[Centre, ...]:
    seen: dict[str, int] = {}
    centres = []
    for row in rows:
        bad = _Bad(CENTRES, row, problems)
        number, name, email = row["centre_number"], row["centre_name"], row["email"]
        if not _NUMBER.match(number):
            bad("centre_number", "must be 1 to 16 letters, digits, '-' or '_' (no spaces)")
        elif number in seen:
            bad("centre_number", f"centre listed twice (first in row {seen[number]})")
        else:
            seen[number] = row.number
        if not name:
            bad("centre_name", "must not be empty")
        elif len(_nfc(name)) > MAX_NAME:
            bad("centre_name", f"is longer than {MAX_NAME} characters")
        if not valid_email(email):
            bad("email", f"is not an e-mail address like exams@school.example {_ASCII_MAIL}")
        recipients = _recipients(row["recipients"], bad)
        if bad.count == 0:
            centres.append(Centre(number, _nfc(name), email, recipients))
    return tuple(centres)


def _recipients(text: str, bad: _Bad) -> tuple[str, ...]:
    keys = split_recipients(text)
    if not keys:
        bad("recipients", "needs at least one age public key (age1…) to encrypt the bundle to")
    for i, key in enumerate(keys, start=1):
        problem = recipient_problem(key)
        if problem:
            bad("recipients", f"key {i} {problem}")
    return tuple(dict.fromkeys(keys))


def split_recipients(text: str) -> list[str]:
    """The age recipients of a centres.csv ``recipients`` cell (spaces or commas between)."""
    return [k for k in re.split(r"[\s,]+", text) if k]


def recipient_problem(key: str) -> str | None:
    """What is wrong with ``key`` as a centre's recipient ("is not …"), or None if it is usable."""
    if key.upper().startswith("AGE-SECRET-KEY-"):
        return ("is a private age identity, not a public key: put only its age1… public key "
                "here and replace that identity")
    try:
        pyrage.x25519.Recipient.from_str(key)
    except pyrage.RecipientError:
        return "is not an age X25519 public key (age1…)"
    return None


def _candidates(rows: Iterable[Row], centres: frozenset[str] | None, spool: Spool,
                problems: list[Problem]) -> None:
    """Check each candidate row; keep the valid candidates, with their row, in ``spool``."""
    for row in rows:
        bad = _Bad(CANDIDATES, row, problems)
        cid, centre, number = row["candidate_id"], row["centre_number"], row["candidate_number"]
        spool.list_id(cid)
        if not _CANDIDATE_ID.match(cid):
            bad("candidate_id", "must be 1 to 32 letters, digits, '-' or '_' (no spaces)")
        elif (first := spool.first_id(canonical_candidate_id(cid), cid, row.number)) is not None:
            # Verifiers type IDs in any case, with or without dashes: these would be one ID.
            bad("candidate_id", f"duplicate candidate: same candidate_id as row {first[0]}"
                + ("" if first[1] == cid else
                   " when case, spaces and dashes are ignored, as the verification does"))
        if centres is not None and centre not in centres:
            bad("centre_number", "no centre with this centre_number in centres.csv")
        if not _NUMBER.match(number):
            bad("candidate_number", "must be 1 to 16 letters, digits, '-' or '_' (no spaces)")
        elif (earlier := spool.first_number(centre, number, row.number)) is not None:
            bad("candidate_number", "duplicate candidate: same centre and candidate_number as "
                f"row {earlier}")
        if not row["name"]:
            bad("name", "must not be empty")
        elif len(_nfc(row["name"])) > MAX_NAME:
            bad("name", f"is longer than {MAX_NAME} characters")
        if not valid_email(row["email"]):
            bad("email", f"is not an e-mail address like name@example.org {_ASCII_MAIL}")
        _check_secret(row["secret_number"], bad)
        if bad.count == 0:
            spool.add_candidate(Candidate(cid, centre, number, _nfc(row["name"]), row["email"],
                                          row["secret_number"]), row.number)


def _check_secret(secret: str, bad: _Bad) -> None:
    # The message must never repeat the value: it is a credential.
    if not (secret.isascii() and secret.isdigit()):
        bad("secret_number", "must be digits only")
    elif not SECRET_MIN <= len(secret) <= SECRET_MAX:
        bad("secret_number", f"must have {SECRET_MIN} to {SECRET_MAX} digits")


def _nfc(text: str) -> str:
    # Spreadsheets on some systems store decomposed accents; the token and PDFs want NFC.
    return unicodedata.normalize("NFC", text)


class _Bad:
    """Records problems for one row and counts them."""

    def __init__(self, file: str, row: Row, problems: list[Problem]) -> None:
        self.file, self.row, self.problems, self.count = file, row, problems, 0

    def __call__(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.row.number, column, message))
        self.count += 1
