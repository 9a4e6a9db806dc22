// templates/token.js against every token vector of tests/vectors/ (SPEC.md): the accept
// vectors decode to their fields and verify; each reject vector fails at its step.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  InvalidToken, crockford, decodeToken, fromDigits, fromLocation, fromQrText, parseKeyset,
  verifyToken,
} from "../../templates/token.js";
import { fromHex, toHex, vectors } from "./vectors.mjs";

const accepts = vectors.filter((v) => v.token_hex && v.expect !== "reject");
const rejects = vectors.filter((v) => v.expect === "reject" && "qr_text" in v);
const refused = (err) => err instanceof InvalidToken;

test("there are accept and reject vectors, and every vector file is run", () => {
  assert.ok(accepts.length >= 4, "accept vectors");
  assert.ok(rejects.length >= 20, "reject vectors");
  for (const v of vectors) {
    const blob = v.name.startsWith("statement-blob") || v.name === "ids.json";  // the other file
    assert.ok(accepts.includes(v) || rejects.includes(v) || blob, v.name);
  }
});

for (const v of accepts) {
  test(`accept ${v.name}: digits, decode and signature`, async () => {
    const token = fromQrText(v.qr_text);
    assert.equal(toHex(token), v.token_hex);
    assert.deepEqual(fromDigits(v.digits), token);
    const keys = await parseKeyset(v.keyset);
    assert.equal(keys.length, v.keyset.keys.length);
    const data = await verifyToken(keys, token);
    const f = v.token_data;
    assert.equal(data.keyId, v.key_id_hex);
    assert.equal(data.statementIdHex, f.statement_id);
    assert.equal(data.statementId, v.statement_id_text);
    assert.equal(data.revision, f.revision);
    assert.equal(data.issueDate, f.issue_date);
    assert.deepEqual([data.seriesYear, data.seriesMonth], [f.series_year, f.series_month]);
    assert.deepEqual([data.test, data.candidateNumber], [f.test, f.candidate_number]);
    assert.equal(data.name, v.name_in_token);
    assert.deepEqual(data.results, f.results);
    assert.equal(toHex(data.body), v.body_hex);
  });

  test(`accept ${v.name}: every flipped bit fails`, async () => {
    const token = fromHex(v.token_hex);
    const keys = await parseKeyset(v.keyset);
    for (let i = 0; i < token.length * 8; i += 7) {
      const bad = token.slice();
      bad[i >> 3] ^= 1 << (i & 7);
      await assert.rejects(verifyToken(keys, bad), refused, `bit ${i}`);
    }
  });

  test(`accept ${v.name}: the verify page reads it only from /q`, () => {
    const hash = `#${v.digits}`;
    assert.deepEqual(fromLocation({ pathname: "/q", search: "", hash }), fromHex(v.token_hex));
    for (const [pathname, search] of [["/q/", ""], ["/Q", ""], ["/x/q", ""], ["/q", "?a=1"]]) {
      assert.throws(() => fromLocation({ pathname, search, hash }), refused, pathname + search);
    }
  });
}

for (const v of rejects) {
  test(`reject ${v.name}: ${v.rule} (at ${v.rejected_by})`, async () => {
    assert.equal(v.expected_error, "InvalidToken");
    const keys = await parseKeyset(v.keyset);
    assert.equal(keys.length, v.keyset.keys.length);
    if (v.rejected_by === "qr_text") {
      assert.throws(() => fromQrText(v.qr_text), refused);
      return;
    }
    const token = fromQrText(v.qr_text);
    if (v.rejected_by === "decode") {
      assert.throws(() => decodeToken(token), refused);
    } else {
      decodeToken(token);
    }
    await assert.rejects(verifyToken(keys, token), refused);
  });
}

test("statement ids in Crockford base32, most significant bit first", () => {
  assert.equal(crockford(new Uint8Array(10)), "0000000000000000");
  assert.equal(crockford(new Uint8Array(10).fill(255)), "ZZZZZZZZZZZZZZZZ");
  assert.equal(crockford(fromHex("00000000000000000001")), "0000000000000001");
  assert.equal(crockford(fromHex("80000000000000000000")), "G000000000000000");
});

test("a leading byte order mark is part of a string, as in Python", () => {
  const v = accepts.find((a) => a.name === "edge-limits.json");
  const data = decodeToken(fromHex(v.token_hex));
  assert.ok(data.name.startsWith("\ufeff"));
  assert.equal(new TextEncoder().encode(data.name).length, 48);
});

test("digits that to_digits cannot make are refused", () => {
  for (const bad of ["12", "256", "99999", "12a45", "0".repeat(18), "9".repeat(17), " 123"]) {
    assert.throws(() => fromDigits(bad), refused, bad);
  }
  assert.deepEqual(fromDigits("255"), Uint8Array.of(255));
  assert.deepEqual(fromDigits(""), new Uint8Array(0));
});

test("keys of another kind or with a wrong kid are left out of the keyset", async () => {
  const good = accepts[0].keyset.keys[0];
  const variants = [{ kty: "EC" }, { crv: "X25519" }, { alg: "ES256" }, { use: "enc" },
    { d: "AAAA" }, { x: "AAAA" }, { kid: "00".repeat(8) }, { valid_from: undefined }];
  for (const change of variants) {
    const keys = await parseKeyset({ keys: [{ ...good, ...change }] });
    assert.equal(keys.length, 0, JSON.stringify(change));
  }
  assert.equal((await parseKeyset({ keys: [good] })).length, 1);
  assert.deepEqual(await parseKeyset({}), []);
});
