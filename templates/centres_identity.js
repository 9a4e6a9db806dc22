// The one place an exams officer's identity may be kept: this browser's IndexedDB for this
// site, only after they tick "remember on this device", until they press "Forget". It is kept
// as a non-extractable WebCrypto X25519 key: it still decrypts, but no script can read it out.
import { bech32 } from "/vendor/age.js";

// PKCS #8 wrapping of a raw X25519 private key (WebCrypto imports these keys only so).
const PKCS8_X25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e,
  0x04, 0x22, 0x04, 0x20];
const DB = "results-online-centres";
const STORE = "identity";
const KEY = "remembered";

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

async function lockedKey(identity) {
  const { prefix, bytes } = bech32.decodeToBytes(identity.toLowerCase());
  if (prefix !== "age-secret-key-" || bytes.length !== 32) throw new Error("not an X25519 identity");
  return crypto.subtle.importKey("pkcs8", new Uint8Array([...PKCS8_X25519, ...bytes]),
    { name: "X25519" }, false, ["deriveBits"]);
}

export async function remember(identities, recipient, centre) {
  // Throws (and stores nothing) where the browser has no X25519 in WebCrypto.
  const keys = await Promise.all(identities.map(lockedKey));
  const record = { keys, recipient, centre, saved: new Date().toISOString() };
  return run("readwrite", (store) => store.put(record, KEY));
}

export async function recall() {
  // Looking must not create the database: nothing is stored until the officer asks.
  const known = await indexedDB.databases();
  if (!known.some((d) => d.name === DB)) return null;
  return (await run("readonly", (store) => store.get(KEY))) || null;
}

export async function forget() {
  await run("readwrite", (store) => store.delete(KEY));
  // Nothing else of this page is stored: drop the whole database too.
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(DB);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}
