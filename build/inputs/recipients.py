"""Add an exams officer's age recipient to a centre in centres.csv (`results centres`).

The file is rewritten in place, atomically, as it was written: same columns and
order, same delimiter, byte-order mark kept, only the centre's ``recipients`` cell
changed (its recipients stay, the new one is appended after a space). Several
recipients per centre are normal: each officer or deputy has their own identity.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from results_online.build.inputs.csvtable import sniff_delimiter
from results_online.build.inputs.load import CENTRES, recipient_problem, split_recipients
from results_online.errors import InputError, Problem

_BOM = "\ufeff"
_HINT = "check the centre number and the public key (age1…), then run the command again"


def _refuse(problem: Problem) -> InputError:
    error = InputError([problem])
    error.hint = _HINT
    return error


def add_recipient(folder: Path, centre: str, recipient: str) -> bool:
    """Add ``recipient`` to ``centre`` in folder/centres.csv; False if it was already listed."""
    recipient = recipient.strip()
    problem = recipient_problem(recipient)
    if problem:
        raise _refuse(Problem(CENTRES, None, "recipients", f"the new key {problem}"))
    path = Path(folder) / CENTRES
    try:
        raw = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise _refuse(Problem(str(path), None, None, "file is missing")) from exc
    except UnicodeDecodeError as exc:
        raise _refuse(Problem(CENTRES, None, None, "is not UTF-8 text")) from exc
    bom = raw.startswith(_BOM)
    text = raw.removeprefix(_BOM)
    delimiter = sniff_delimiter(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = ["_".join(h.strip().lower().split()) for h in records[0]] if records else []
    if "centre_number" not in header or "recipients" not in header:
        raise _refuse(Problem(CENTRES, 1, None,
                                  "needs the columns centre_number and recipients"))
    number_at, keys_at = header.index("centre_number"), header.index("recipients")
    rows = [i for i, r in enumerate(records[1:], start=1)
            if len(r) > number_at and r[number_at].strip() == centre]
    if not rows:
        raise _refuse(Problem(CENTRES, None, "centre_number",
                                  f"no centre {centre} (add its row first)"))
    row = records[rows[0]]
    row.extend([""] * (keys_at + 1 - len(row)))
    keys = split_recipients(row[keys_at])
    if recipient in keys:
        return False
    row[keys_at] = " ".join([*keys, recipient])
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(records)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text((_BOM if bom else "") + out.getvalue(), encoding="utf-8", newline="")
    os.replace(tmp, path)
    return True
