"""tests/vectors/statement-blob-rejects.json: current, and refused by the Python reader too."""

from __future__ import annotations

import base64
import json

import blob_vectors as bv
import pytest

from results_online.build.site.encrypt import decrypt_statement
from results_online.errors import InvalidToken

STORED = json.loads(bv.OUT.read_text(encoding="utf-8"))
BLOBS = [c for c in STORED["cases"] if c["rejected_by"] == "blob"]


def test_the_stored_vectors_are_what_the_generator_makes() -> None:
    assert bv.make() == STORED


def test_the_good_vector_still_opens() -> None:
    content = decrypt_statement(bv.KEY, bv.ID, bytes.fromhex(bv.BLOB))
    assert content.fragment_html == bv.GOOD["fragment_html"]


@pytest.mark.parametrize("case", BLOBS, ids=[c["rule"] for c in BLOBS])
def test_python_refuses_every_blob_the_viewer_refuses(case: dict[str, str]) -> None:
    sid, _, key = case["fragment"].partition(".")
    with pytest.raises(InvalidToken):
        decrypt_statement(base64.urlsafe_b64decode(key + "="), sid, bytes.fromhex(case["blob_hex"]))
