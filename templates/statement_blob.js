// A secure link's fragment and the statement blob it opens (SPEC.md, "Statement ciphertext"):
// <id>.<key>, then s/<id>.bin = nonce ‖ AES-256-GCM ciphertext ‖ tag, the id as associated
// data; the plaintext is len(fragment) ‖ fragment (UTF-8 HTML) ‖ PDF. Browser and Node alike.

const ID = /^[0-9A-HJKMNP-TV-Z]{16}$/;
// 43 base64url characters hold 32 bytes; the last one carries 2 unused bits, which must be 0.
const KEY = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const NONCE = 12;
const TAG = 16;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// A link that is not one the build made, or a blob that does not open under it.
export class DamagedLink extends Error {
  constructor() {
    super("damaged link");
    this.name = "DamagedLink";
  }
}

const refuse = () => { throw new DamagedLink(); };

// "<id>.<key>" (the part of the link after #) as the statement id and the 32-byte key.
export function parseLink(fragment) {
  let text;
  try {
    text = decodeURIComponent(fragment);
  } catch {
    return refuse();
  }
  const dot = text.indexOf(".");
  if (dot < 0) refuse();
  const id = text.slice(0, dot).toUpperCase();
  const key = text.slice(dot + 1);
  if (!ID.test(id) || !KEY.test(key)) refuse();
  const binary = atob(key.replace(/-/g, "+").replace(/_/g, "/") + "=");
  return { id, key: Uint8Array.from(binary, (c) => c.charCodeAt(0)) };
}

// Decrypt and split a blob; throw DamagedLink for any blob this link does not open.
export async function openStatement(link, blob) {
  if (!(blob instanceof Uint8Array) || blob.length < NONCE + TAG) refuse();
  let plain;
  try {
    const key = await crypto.subtle.importKey("raw", link.key, "AES-GCM", false, ["decrypt"]);
    plain = new Uint8Array(await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: blob.subarray(0, NONCE),
        additionalData: new TextEncoder().encode(link.id) },
      key, blob.subarray(NONCE)));
  } catch {
    return refuse();
  }
  // len(html) ‖ html ‖ len(pdf) ‖ pdf ‖ zero padding (SPEC.md)
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  if (plain.length < 8) refuse();
  const size = view.getUint32(0);
  if (8 + size > plain.length) refuse();
  const end = 8 + size + view.getUint32(4 + size);
  if (end > plain.length) refuse();
  try {
    return { html: UTF8.decode(plain.subarray(4, 4 + size)), pdf: plain.subarray(8 + size, end) };
  } catch {
    return refuse();
  }
}
