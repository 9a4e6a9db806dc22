"""tests/vectors/ids.json (derived from SPEC.md's text) against results_online.ids."""

from __future__ import annotations

import json
from dataclasses import replace

import id_vectors as iv
import pytest
from factories import candidates, centres, step_entry, step_test

from results_online import ids

STORED = json.loads(iv.OUT.read_text(encoding="utf-8"))


def test_the_stored_vector_is_what_the_generator_makes() -> None:
    assert iv.make() == STORED


@pytest.mark.parametrize("case", STORED["cases"],
                         ids=lambda c: f"{c['candidate_id']}-{c['revision']}")
def test_ids_derives_what_the_spec_says(case: dict[str, str]) -> None:
    secret = bytes.fromhex(STORED["statement_secret_hex"])
    test = replace(step_test(), code=case["test"])
    candidate = replace(candidates(centres(1), 1)[0], candidate_id=case["candidate_id"])
    entry = replace(step_entry(candidate, test, [50, 50]), revision=int(case["revision"]))
    raw = ids.statement_id_bytes(secret, case["series_code"], entry)
    assert raw.hex() == case["statement_id_hex"]
    assert ids.id_to_text(raw) == case["statement_id"]
    assert ids.id_from_text(case["statement_id"].lower()) == raw
    assert ids.content_key(secret, case["statement_id"]).hex() == case["content_key_hex"]
    assert ids.secure_link(STORED["site_url"], case["statement_id"], secret) == case["link"]
