// The one place an exams officer's identity may be kept: this browser's IndexedDB for this
// site, only after they tick "remember on this device", until they press "Forget".
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

export function remember(identities, recipient, centre) {
  const record = { identities, recipient, centre, saved: new Date().toISOString() };
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
