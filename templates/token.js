// The signed token (SPEC.md), read as results_online/token.py reads it: from the QR text
// or the verify page's address, decoded with the same rules, its Ed25519 signature checked
// with WebCrypto against the board's JWK Set. Runs in browsers and in Node (node --test).

export const SIGNATURE = 64;
export const VERSION = 1;
export const MAX_NAME_BYTES = 48;
export const FIRST_SERIES = 2000 * 12;
export const LAST_SERIES = 5000 * 12 + 11;
export const QR_PATH = "/q";
export const NO_MARK = 255;
export const STATUS_CODES = Object.freeze({ 251: "X", 252: "Z", 253: "Pending", 254: "Withheld" });
const HEADER = 24;
const CHUNK_DIGITS = [0, 3, 5, 8, 10, 13, 15, 17];
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const QR_TEXT = /^https?:\/\/[A-Za-z0-9.:[\]-]+\/q#([0-9]+)$/;
const DAY_MS = 86400000;
// ignoreBOM: a leading U+FEFF is part of the string, as in Python, not dropped.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// The one error of every failure, with no detail (as InvalidToken in Python).
export class InvalidToken extends Error {
  constructor() {
    super("invalid token");
    this.name = "InvalidToken";
  }
}

const refuse = () => { throw new InvalidToken(); };

// Inverse of token.to_digits: 17 digits per 7-byte chunk, a shorter tail for fewer bytes.
export function fromDigits(digits) {
  if (!/^[0-9]*$/.test(digits)) refuse();
  const full = Math.floor(digits.length / 17);
  const tail = digits.length % 17;
  const sizes = Array(full).fill(7);
  if (tail) {
    const size = CHUNK_DIGITS.indexOf(tail);
    if (size < 1) refuse();
    sizes.push(size);
  }
  const out = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let pos = 0;
  let at = 0;
  for (const size of sizes) {
    let value = BigInt(digits.slice(pos, pos + CHUNK_DIGITS[size]));
    pos += CHUNK_DIGITS[size];
    if (value >= 1n << BigInt(8 * size)) refuse();
    for (let i = size - 1; i >= 0; i--) {
      out[at + i] = Number(value & 255n);
      value >>= 8n;
    }
    at += size;
  }
  return out;
}

// The token in QR text exactly as token.qr_text writes it: http(s)://<host>/q#<digits>.
export function fromQrText(text) {
  const match = QR_TEXT.exec(text);
  return match ? fromDigits(match[1]) : refuse();
}

// The token in the verify page's own address: the path is exactly /q, with no query.
export function fromLocation({ pathname, search, hash }) {
  if (pathname !== QR_PATH || search !== "" || !hash.startsWith("#")) refuse();
  return fromDigits(hash.slice(1));
}

// A statement id (10 bytes) as 16 Crockford base32 characters, most significant bit first.
export function crockford(bytes) {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? out + CROCKFORD[(value << (5 - bits)) & 31] : out;
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The same ranges as token._check_fields: the encoder makes nothing outside them. (Its
// "CEFR only on the overall result" cannot fail here: the layout has no place for one.)
function checkFields(revision, series, nameBytes, results) {
  if (revision < 1 || series < FIRST_SERIES || series > LAST_SERIES) refuse();
  if (nameBytes > MAX_NAME_BYTES || results.length < 1) refuse();
  results.forEach((r, i) => {
    if (r.code === "" && i !== results.length - 1) refuse();
    if (r.status !== null && (r.grade || r.cefr)) refuse();
  });
}

// Parse a token without checking its signature; throw InvalidToken if it is malformed.
export function decodeToken(token) {
  if (!(token instanceof Uint8Array) || token.length <= SIGNATURE) refuse();
  const body = token.subarray(0, token.length - SIGNATURE);
  if (body.length < HEADER || body[0] !== VERSION) refuse();
  let pos = HEADER;
  const byte = () => (pos < body.length ? body[pos++] : refuse());
  const str8 = () => {
    const n = byte();
    if (pos + n > body.length) refuse();
    const raw = body.subarray(pos, pos + n);
    pos += n;
    try {
      return { text: UTF8.decode(raw), size: n };
    } catch {
      return refuse();
    }
  };
  const u16 = (at) => (body[at] << 8) | body[at + 1];
  const revision = body[19];
  const days = u16(20);
  const series = u16(22);
  const test = str8().text;
  const candidateNumber = str8().text;
  const name = str8();
  const count = byte();
  const results = [];
  for (let i = 0; i < count; i++) {
    const code = str8().text;
    const value = byte();
    const grade = str8().text;
    const cefr = code === "" ? str8().text : "";
    results.push({ code, value: value <= 250 ? value : null, status: STATUS_CODES[value] ?? null,
      grade, cefr });
  }
  if (pos !== body.length) refuse();
  checkFields(revision, series, name.size, results);
  return {
    keyId: hex(body.subarray(1, 9)),
    statementId: crockford(body.subarray(9, 19)),
    statementIdHex: hex(body.subarray(9, 19)),
    revision,
    issueDate: new Date(Date.UTC(2000, 0, 1) + days * DAY_MS).toISOString().slice(0, 10),
    seriesYear: Math.floor(series / 12),
    seriesMonth: (series % 12) + 1,
    test,
    candidateNumber,
    name: name.text,
    results,
    body,
    signature: token.subarray(token.length - SIGNATURE),
  };
}

function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) refuse();
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=");
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

// The Ed25519 keys of a JWK Set (SPEC.md, "Keyset"), each with its validity period.
// A key of another kind, or whose kid is not its own key id, is left out.
export async function parseKeyset(doc) {
  const keys = [];
  for (const jwk of Array.isArray(doc?.keys) ? doc.keys : []) {
    try {
      if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || (jwk.alg ?? "EdDSA") !== "EdDSA" ||
          (jwk.use ?? "sig") !== "sig" || "d" in jwk) continue;
      const raw = fromBase64url(jwk.x);
      const id = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)).subarray(0, 8));
      if (id !== jwk.kid || typeof jwk.valid_from !== "string") continue;
      keys.push({ kid: id, raw, validFrom: jwk.valid_from, validUntil: jwk.valid_until ?? null });
    } catch {
      // not a key this reader can use: leave it out
    }
  }
  return keys;
}

// Decode and verify: the token's data if a key of the set, valid on its issue date, signed
// it; else throw InvalidToken. As token.verify_token.
export async function verifyToken(keys, token) {
  const data = decodeToken(token);
  const entry = keys.find((k) => k.kid === data.keyId);
  if (!entry || data.issueDate < entry.validFrom ||
      (entry.validUntil && data.issueDate > entry.validUntil)) refuse();
  let ok = false;
  try {
    const key = await crypto.subtle.importKey("raw", entry.raw, { name: "Ed25519" }, false,
      ["verify"]);
    ok = await crypto.subtle.verify({ name: "Ed25519" }, key, data.signature, data.body);
  } catch {
    ok = false;
  }
  return ok ? data : refuse();
}
