// templates/statement_blob.js against tests/vectors/statement-blob*.json: the secure link's
// key opens its blob (WebCrypto AES-256-GCM, as in the browser); every damaged link or blob
// throws DamagedLink, the error the viewer shows as its "damaged link" message.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DamagedLink, openStatement, parseLink } from "../../templates/statement_blob.js";
import { crockford } from "../../templates/token.js";
import { fromHex, toHex, vectors } from "./vectors.mjs";

const good = vectors.find((v) => v.name === "statement-blob.json");
const rejects = vectors.find((v) => v.name === "statement-blob-rejects.json");
const ids = vectors.find((v) => v.name === "ids.json");
const damaged = (err) => err instanceof DamagedLink;

test("the vector's link opens its blob to the fragment and the PDF", async () => {
  const link = parseLink(`${good.statement_id}.${good.link_key}`);
  assert.equal(link.id, good.statement_id);
  assert.equal(toHex(link.key), good.key_hex);
  assert.equal(toHex(fromHex(good.blob_hex).subarray(0, 12)), good.nonce_hex);
  const content = await openStatement(link, fromHex(good.blob_hex));
  assert.equal(content.html, good.fragment_html);
  assert.equal(toHex(content.pdf), good.pdf_hex);
});

test("a lower-case id in the link reads as the same id", async () => {
  const link = parseLink(`${good.statement_id.toLowerCase()}.${good.link_key}`);
  assert.equal((await openStatement(link, fromHex(good.blob_hex))).html, good.fragment_html);
});

test("there are damaged-link vectors for the link and for the blob", () => {
  assert.equal(rejects.expected_error, "DamagedLink");
  const steps = new Set(rejects.cases.map((c) => c.rejected_by));
  assert.deepEqual([...steps].sort(), ["blob", "link"]);
});

for (const c of rejects.cases) {
  test(`damaged (${c.rejected_by}): ${c.rule}`, async () => {
    if (c.rejected_by === "link") {
      assert.throws(() => parseLink(c.fragment), damaged);
      return;
    }
    const link = parseLink(c.fragment);
    await assert.rejects(openStatement(link, fromHex(c.blob_hex)), damaged);
  });
}

for (const c of ids.cases) {
  test(`ids.json ${c.statement_id}: base32 of the id, and the link's key`, () => {
    assert.equal(crockford(fromHex(c.statement_id_hex)), c.statement_id);
    const link = parseLink(c.link.split("#")[1]);
    assert.equal(link.id, c.statement_id);
    assert.equal(toHex(link.key), c.content_key_hex);
  });
}
