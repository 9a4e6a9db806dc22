// The known-answer vectors of tests/vectors/, shared by the Node tests of the browser modules.
import { readFileSync, readdirSync } from "node:fs";
import { webcrypto } from "node:crypto";

// Node 18 has WebCrypto only as node:crypto's webcrypto; browsers and Node 19+ as a global.
globalThis.crypto ??= webcrypto;

const folder = new URL("../vectors/", import.meta.url);

export const vectors = readdirSync(folder)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => ({ name, ...JSON.parse(readFileSync(new URL(name, folder), "utf-8")) }));

export const fromHex = (text) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
