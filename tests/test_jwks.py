"""The published keyset is an RFC 7517 JWK Set of RFC 8037 keys that JOSE libraries load."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import jwt
import pytest
import token_vectors as tv
from jwcrypto import jwk, jws

from results_online import crypto
from results_online import token as tk
from results_online.errors import KeyStoreError
from results_online.keys.store import init_keys, load_keys, rotate_keys
from results_online.keyset import Keyset, load_keyset


@pytest.fixture
def rotated(tmp_path: Path) -> Path:
    """A key store with a retired key and an active one."""
    folder = tmp_path / "keys"
    init_keys(folder, date(2026, 1, 10))
    rotate_keys(folder, date(2026, 7, 1))
    return folder


def _published(folder: Path) -> str:
    return load_keyset(folder).to_json()


def test_pyjwt_loads_every_key_and_verifies_a_jws_of_the_active_one(rotated: Path) -> None:
    doc = _published(rotated)
    keyset = load_keyset(rotated)
    jwks = jwt.PyJWKSet.from_json(doc)
    assert [k.key_id for k in jwks.keys] == [k.kid.hex() for k in keyset.keys]
    assert {k.algorithm_name for k in jwks.keys} == {"EdDSA"}
    active = load_keys(rotated)
    signed = jwt.encode({"sub": "check"}, active.signing_key, algorithm="EdDSA",
                        headers={"kid": active.signing_kid.hex()})
    assert jwt.decode(signed, jwks[active.signing_kid.hex()].key, algorithms=["EdDSA"]) == {
        "sub": "check"}


def test_jwcrypto_loads_every_key_as_a_public_okp_key(rotated: Path) -> None:
    doc = _published(rotated)
    keyset = load_keyset(rotated)
    jwks = jwk.JWKSet.from_json(doc)
    assert len(jwks["keys"]) == len(keyset.keys) == 2
    for ours in keyset.keys:
        theirs = jwks.get_key(ours.kid.hex())
        assert theirs is not None and not theirs.has_private
        public = theirs.export_public(as_dict=True)
        assert (public["kty"], public["crv"]) == ("OKP", "Ed25519")
        raw = base64.urlsafe_b64decode(public["x"] + "=")
        assert raw == crypto.raw_public_key(ours.key)
    active = load_keys(rotated)
    token = jws.JWS(b"statement")
    token.add_signature(jwk.JWK.from_pyca(active.signing_key), alg="EdDSA",
                        protected=json.dumps({"alg": "EdDSA"}))
    check = jws.JWS()
    check.deserialize(token.serialize())
    check.verify(jwks.get_key(active.signing_kid.hex()))
    assert check.payload == b"statement"


def test_the_validity_period_survives_beside_the_jose_members(rotated: Path) -> None:
    doc = json.loads(_published(rotated))
    first, second = doc["keys"]
    assert (first["valid_from"], first["valid_until"]) == ("2026-01-10", "2026-07-01")
    assert (second["valid_from"], second["valid_until"]) == ("2026-07-01", None)
    for key in doc["keys"]:
        assert {"kty", "crv", "x", "kid", "alg", "use"} <= key.keys() and "d" not in key


def test_a_keyset_json_of_an_older_store_still_reads() -> None:
    key = tv.private_key(tv.seed("A"))
    raw = crypto.raw_public_key(key.public_key())
    old = {"keys": [{"kid": crypto.key_id(key.public_key()).hex(), "alg": "Ed25519",
                     "public_key": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
                     "valid_from": "2026-01-01", "valid_until": None}]}
    keyset = Keyset.from_json(json.dumps(old))
    assert keyset == Keyset.from_json(tv.keyset_for(key).to_json())
    signed = bytes.fromhex(tv.stored("step-basic")["token_hex"])
    assert tk.verify_token(keyset, signed).name == tv.stored("step-basic")["name_in_token"]


@pytest.mark.parametrize("change", [
    {"kty": "EC"}, {"crv": "X25519"}, {"alg": "ES256"}, {"use": "enc"}, {"d": "AAAA"},
    {"x": "AAAA"}, {"x": "!" * 43}, {"kid": "00" * 8},
])
def test_a_key_of_another_kind_is_refused(change: dict[str, str]) -> None:
    doc = json.loads(tv.keyset_for(tv.private_key(tv.seed("A"))).to_json())
    doc["keys"][0].update(change)
    with pytest.raises(KeyStoreError):
        Keyset.from_json(json.dumps(doc))


def test_every_keyset_in_the_vectors_loads_in_both_libraries() -> None:
    docs = [json.loads(p.read_text("utf-8"))["keyset"]
            for p in sorted(tv.VECTOR_DIR.glob("*.json")) if "keyset" in p.read_text("utf-8")]
    assert len(docs) > 20
    for doc in docs:
        text = json.dumps(doc)
        kids = [k["kid"] for k in doc["keys"]]
        assert [k.key_id for k in jwt.PyJWKSet.from_json(text).keys] == kids
        theirs = jwk.JWKSet.from_json(text)
        assert len(theirs["keys"]) == len(kids)
        assert all(theirs.get_key(kid) is not None for kid in kids)
        assert [k.kid.hex() for k in Keyset.from_json(text).keys] == kids
