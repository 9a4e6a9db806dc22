// The QR verify page: decode the token from the URL fragment (…/q#digits), check its
// Ed25519 signature with WebCrypto against /.well-known/results-keys.json, show what it
// says, then ask for the statement's status (verify_status.js, loaded first, sends only
// its id, and gives the shared date and base64url helpers).
// Layout of the token: SPEC.md. The token never leaves the browser.
"use strict";
(function () {
  const CHUNK_DIGITS = [0, 3, 5, 8, 10, 13, 15, 17];
  const STATUS = { 251: "Absent from this part (X)", 252: "Absent (Z)", 253: "Result pending",
    254: "Result withheld" };
  const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const SIGNATURE = 64;

  function fromDigits(digits) {
    if (!/^[0-9]+$/.test(digits)) throw new Error("not digits");
    const full = Math.floor(digits.length / 17), tail = digits.length % 17;
    if (tail && CHUNK_DIGITS.indexOf(tail) < 1) throw new Error("bad length");
    const sizes = Array(full).fill(7);
    if (tail) sizes.push(CHUNK_DIGITS.indexOf(tail));
    const out = [];
    let pos = 0;
    for (const size of sizes) {
      let value = BigInt(digits.slice(pos, pos + CHUNK_DIGITS[size]));
      pos += CHUNK_DIGITS[size];
      if (value >= 1n << BigInt(8 * size)) throw new Error("chunk too large");
      const chunk = [];
      for (let i = 0; i < size; i++) { chunk.unshift(Number(value & 255n)); value >>= 8n; }
      out.push(...chunk);
    }
    return new Uint8Array(out);
  }

  function decode(token) {
    if (token.length <= SIGNATURE + 24 || token[0] !== 1) throw new Error("unknown version");
    const body = token.subarray(0, token.length - SIGNATURE);
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const text = new TextDecoder("utf-8", { fatal: true });
    let pos = 24;
    function str8() {
      const n = body[pos];
      if (pos + 1 + n > body.length) throw new Error("truncated");
      const s = text.decode(body.subarray(pos + 1, pos + 1 + n));
      pos += 1 + n;
      return s;
    }
    const data = {
      kid: hex(body.subarray(1, 9)), statementId: base32(body.subarray(9, 19)),
      revision: body[19], days: view.getUint16(20), series: view.getUint16(22),
    };
    data.test = str8(); data.number = str8(); data.name = str8();
    const count = body[pos++];
    data.results = [];
    for (let i = 0; i < count; i++) {
      const r = { code: str8(), value: body[pos++] };
      r.grade = str8();
      r.cefr = r.code === "" ? str8() : "";
      data.results.push(r);
    }
    if (pos !== body.length) throw new Error("trailing bytes");
    const issued = new Date(Date.UTC(2000, 0, 1) + data.days * 86400000);
    data.issued = issued.toISOString().slice(0, 10);
    data.body = body;
    data.signature = token.subarray(token.length - SIGNATURE);
    return data;
  }

  function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }

  function base32(bytes) {
    let bits = 0, value = 0, out = "";
    for (const b of bytes) {
      value = (value << 8) | b; bits += 8;
      while (bits >= 5) { out += CROCKFORD[(value >>> (bits - 5)) & 31]; bits -= 5; }
    }
    if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
    return out;
  }

  async function checkSignature(data) {
    const response = await fetch("/.well-known/results-keys.json", { cache: "no-store" });
    if (!response.ok) throw new Error("no keyset");
    const keyset = await response.json();
    const entry = keyset.keys.find((k) => k.kid === data.kid);
    if (!entry || data.issued < entry.valid_from ||
        (entry.valid_until && data.issued > entry.valid_until)) return false;
    const raw = window.resultsStatus.b64url(entry.public_key);
    const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, data.signature, data.body);
  }

  function resultText(r) {
    if (STATUS[r.value]) return STATUS[r.value];
    const value = r.value === 255 ? "" : String(r.value);
    if (r.code === "") {
      const grade = r.grade ? (r.grade.startsWith("Level") ? r.grade : `Grade ${r.grade}`) : "No grade";
      return `${grade}${value ? ` (${value})` : ""}${r.cefr ? `, CEFR ${r.cefr}` : ""}`;
    }
    return r.grade ? `${r.grade}${value ? ` (${value} marks)` : ""}` : value;
  }

  function show(data) {
    const set = (id, text) => { document.getElementById(id).textContent = text; };
    set("name", data.name);
    set("number", data.number);
    set("test", data.test);
    const { LONG_MONTHS, longDate } = window.resultsStatus;
    set("series", `${LONG_MONTHS[data.series % 12]} ${Math.floor(data.series / 12)}`);
    set("issued", longDate(data.issued));
    set("statement-id", `${data.statementId.match(/.{4}/g).join("-")} (revision ${data.revision})`);
    const rows = document.getElementById("results");
    rows.replaceChildren(...data.results.map((r) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = r.code || "Overall";
      const td = document.createElement("td");
      td.textContent = resultText(r);
      tr.append(th, td);
      return tr;
    }));
    document.getElementById("statement").hidden = false;
  }

  async function main() {
    const verdict = document.getElementById("verdict");
    const status = document.getElementById("status");
    document.getElementById("statement").hidden = true;
    delete verdict.dataset.valid;
    delete status.dataset.status;
    status.textContent = "";
    verdict.textContent = "Checking the signature…";
    let data;
    try {
      data = decode(fromDigits(decodeURIComponent(location.hash.slice(1))));
      if (!(await checkSignature(data))) throw new Error("bad signature");
    } catch (err) {
      verdict.textContent = "NOT VALID: this QR code was not issued by the awarding body, " +
        "or it has been changed. Do not rely on it.";
      verdict.className = "error";
      verdict.dataset.valid = "false";
      return;
    }
    verdict.textContent = "Genuine: the awarding body signed these results.";
    verdict.className = "ok";
    verdict.dataset.valid = "true";
    show(data);
    const code = `${Math.floor(data.series / 12)}-${String(data.series % 12 + 1).padStart(2, "0")}`;
    window.resultsStatus.showStatus(data.statementId, document.getElementById("status"), code);
  }

  window.addEventListener("hashchange", main);  // another QR opened in the same tab
  main();
})();
