// /centres/open: the exams officer's age identity decrypts c/<centre>/<series>.zip.age in this
// page (typage), fflate unzips it, and the bundle's own index.html overview is shown with its
// links turned into downloads of the zip's files. The identity never leaves the page: the only
// request is a GET of the ciphertext; it is stored only when the officer ticks "remember".
import { Decrypter, identityToRecipient } from "/vendor/age.js";
import { unzipSync } from "/vendor/fflate.js";
import { forget, recall, remember } from "/centres_identity.js";
import { startOverview } from "/overview.js";

const CENTRE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SECRET = /^AGE-SECRET-KEY-1[0-9A-Z]+$/;
const TYPES = { csv: "text/csv", pdf: "application/pdf", html: "text/html", zip: "application/zip",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" };
const MAX_IDENTITY_FILE = 64 * 1024;  // an identity file is a few hundred bytes
const main = document.getElementById("main");
const $ = (id) => document.getElementById(id);
const message = $("message");
let urls = [];

class Problem extends Error {
  constructor(kind, text) { super(text); this.kind = kind; }
}

function say(text, kind) {
  message.textContent = text;
  message.className = kind ? "error" : "";
  message.setAttribute("role", kind ? "alert" : "status");
  main.dataset.state = kind ? "error" : main.dataset.state;
  if (kind) main.dataset.error = kind; else delete main.dataset.error;
}

function identitiesIn(text) {
  // An age identity file: comments (# created, # public key), blank lines, AGE-SECRET-KEY-1… lines.
  if (/^(age-encryption\.org\/v1|-----BEGIN AGE ENCRYPTED FILE-----)/.test(text)) {
    throw new Problem("no-identity", "This identity file is itself encrypted (with a " +
      "passphrase). Decrypt it first, e.g. age -d -o identity.txt identity.age, then choose " +
      "identity.txt.");
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const keys = lines.filter((l) => SECRET.test(l));
  if (keys.length) return keys;
  if (lines.some((l) => l.startsWith("AGE-SECRET-KEY-PQ-"))) {
    throw new Problem("no-identity", "This is a post-quantum age identity. Your centre's bundle " +
      "is encrypted to X25519 identities (AGE-SECRET-KEY-1…): choose the file of the public key " +
      "(age1…) your centre registered.");
  }
  if (lines.some((l) => l.startsWith("age1"))) {
    throw new Problem("no-identity", "This file holds a public key (age1…), the one you send " +
      "to the board. Choose the identity file that goes with it (a line AGE-SECRET-KEY-1…).");
  }
  throw new Problem("no-identity", "This file holds no age identity: choose the file with a " +
    "line starting AGE-SECRET-KEY-1.");
}

function centreNumber() {
  const centre = $("centre").value.trim();
  if (!CENTRE.test(centre)) {
    throw new Problem("centre", "Type your centre number (letters and digits, as on your e-mail).");
  }
  return centre;
}

async function fetchBundle(centre) {
  const url = `/c/${encodeURIComponent(centre)}/${encodeURIComponent(main.dataset.series)}.zip.age`;
  let response;
  try {
    response = await fetch(url, { cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
  } catch {
    throw new Problem("network", "The results bundle could not be downloaded. Check your " +
      "connection and try again.");
  }
  if (response.status === 404 || response.status === 403) {
    const now = Date.now();
    if (now < Date.parse(main.dataset.centresRelease)) {
      throw new Problem("not-released", "Your centre's results are not released yet. They are " +
        `released on ${main.dataset.centresReleaseText}: open this page again then.`);
    }
    if (now >= Date.parse(main.dataset.withdrawnAt)) {
      throw new Problem("gone", "Results of this series were available on this site until " +
        `${main.dataset.availableUntilText}. Ask the board for a copy.`);
    }
    throw new Problem("not-found", `There is no results bundle for centre ${centre} in this ` +
      "series. Check the centre number on your e-mail; if it is right, your centre has no " +
      "results in this series, or they are not published yet.");
  }
  if (!response.ok) {
    throw new Problem("network", `The results bundle could not be downloaded (error ${response.status}). Try again later.`);
  }
  return response.body;
}

const DAMAGED = "The results bundle is damaged (it did not decrypt completely). Reload the " +
  "page to download it again; if this keeps happening, contact the board.";

async function decrypt(bundle, identities) {
  // Streamed: chunks are decrypted as they arrive. The header (which identity matches) is read
  // before decrypt() resolves; a damaged chunk fails while reading.
  const decrypter = new Decrypter();
  identities.forEach((i) => decrypter.addIdentity(i));
  let plain;
  try {
    plain = await decrypter.decrypt(bundle);
  } catch (e) {
    if (/no identity matched/.test(String(e && e.message))) {
      throw new Problem("wrong-identity", "This identity does not open your centre's bundle. " +
        "Choose the identity file of a public key your centre registered with the board (each " +
        "exams officer has their own), or check the centre number.");
    }
    throw new Problem("damaged", DAMAGED);
  }
  try {
    return new Uint8Array(await new Response(plain).arrayBuffer());
  } catch {
    throw new Problem("damaged", DAMAGED);
  }
}

function unzip(data) {
  try {
    const files = unzipSync(data);
    if (!files["index.html"]) throw new Error("no overview");
    return files;
  } catch {
    throw new Problem("damaged", "The results bundle opened but its contents are damaged. " +
      "Contact the board.");
  }
}

function fileUrl(name, bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: TYPES[name.split(".").pop()] || "application/octet-stream" }));
  urls.push(url);
  return url;
}

const DROP = new Set(["SCRIPT", "STYLE", "LINK", "META", "BASE", "IFRAME", "OBJECT", "EMBED", "FORM", "IMG", "svg"]);

function adopt(node, files, prefix) {
  // Bring the overview's markup into this page: no scripts, styles or handlers; links only to
  // the zip's own files (as downloads) or to anchors inside the overview.
  const copy = document.importNode(node, true);
  for (const el of [...copy.querySelectorAll("*")]) {
    if (DROP.has(el.tagName)) { el.remove(); continue; }
    for (const attr of [...el.attributes]) {
      if (/^on|^style$|^srcdoc$/i.test(attr.name)) el.removeAttribute(attr.name);
    }
    if (el.tagName !== "A" || !el.hasAttribute("href")) continue;
    const href = el.getAttribute("href");
    if (href.startsWith("#")) continue;
    if (Object.hasOwn(files, href)) {
      el.href = fileUrl(href, files[href]);
      el.download = prefix + href.split("/").pop();
    } else {
      el.removeAttribute("href");
    }
  }
  return copy;
}

function show(files, centre, zipBytes) {
  // Parse from <body>: the offline page's inline <style> would only be refused by this CSP.
  const html = new TextDecoder().decode(files["index.html"]);
  const doc = new DOMParser().parseFromString(html.slice(Math.max(0, html.indexOf("<body"))), "text/html");
  const holder = $("bundle");
  holder.replaceChildren();
  for (const name of ["bankHolidays", "appealDays", "wording"]) {
    if (doc.body.dataset[name] !== undefined) holder.dataset[name] = doc.body.dataset[name];
  }
  const prefix = `${centre}-${main.dataset.series}-`;
  // The offline page's footer (keep it with the unzipped files) does not apply here.
  for (const part of doc.querySelectorAll("body > header, main > *")) {
    holder.append(adopt(part, files, prefix));
  }
  const zip = $("zip");
  zip.href = fileUrl("bundle.zip", zipBytes);
  zip.download = `${prefix}results.zip`;
  $("intro").hidden = true;
  $("opened").hidden = false;
  main.dataset.state = "open";
  say(`Results of centre ${centre} are open in this page. Nothing was sent to this site; ` +
    "closing or reloading the page removes them from this browser.");
  startOverview(holder);  // the overview's own filter, day counts and appeal calculator
  const title = holder.querySelector("h1");
  if (title) { title.tabIndex = -1; title.focus(); }
}

async function open(identities, fromFile) {
  let remembered = null;
  main.dataset.state = "opening";
  say("Downloading and decrypting your results…");
  try {
    const centre = centreNumber();
    const data = await decrypt(await fetchBundle(centre), identities);
    const files = unzip(data);
    if (fromFile && $("remember").checked) {
      try {
        await remember(identities, await identityToRecipient(identities[0]), centre);
      } catch (e) {
        console.error(e);
        remembered = false;
      }
    }
    show(files, centre, data);
    if (remembered === false) {
      say("Your results are open, but this browser cannot keep the identity safely, so it is " +
        "not remembered: choose the file again next time.");
    }
  } catch (e) {
    if (!(e instanceof Problem)) console.error(e);
    say(e instanceof Problem ? e.message : "Something went wrong opening the bundle. Reload the page and try again.",
      e instanceof Problem ? e.kind : "unexpected");
  }
}

async function openFile(file) {
  if (!file) return;
  if (file.size > MAX_IDENTITY_FILE) {
    say("This file is too large to be an age identity file: choose the small text file with " +
      "a line starting AGE-SECRET-KEY-1.", "no-identity");
    return;
  }
  try {
    const identities = identitiesIn(await file.text());
    await open(identities, true);
  } catch (e) {
    say(e.message, e.kind || "no-identity");
  }
}

async function showRemembered() {
  const saved = await recall();
  $("remembered").hidden = !saved;
  if (!saved) return null;
  $("remembered-key").textContent = saved.recipient;
  $("remembered-when").textContent = new Date(saved.saved).toLocaleString();
  if (!$("centre").value && saved.centre) $("centre").value = saved.centre;
  return saved;
}

function start() {
  const wanted = new URLSearchParams(location.search).get("centre");
  if (wanted && CENTRE.test(wanted)) $("centre").value = wanted;
  $("open").addEventListener("click", () => {
    const file = $("identity").files[0];
    if (file) openFile(file); else say("Choose your centre's identity file first.", "no-identity");
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    openFile(e.dataTransfer.files[0]);
  });
  $("use-remembered").addEventListener("click", async () => {
    const saved = await recall();
    if (saved) await open(saved.keys, false);
  });
  $("forget").addEventListener("click", async () => {
    await forget();
    await showRemembered();
    say("The identity is forgotten on this device.");
  });
  $("close").addEventListener("click", () => {
    urls.forEach((u) => URL.revokeObjectURL(u));
    urls = [];
    $("bundle").replaceChildren();
    $("opened").hidden = true;
    $("intro").hidden = false;
    main.dataset.state = "ready";
    say("The results are closed.");
    showRemembered();
  });
  showRemembered().catch(() => {});
}

start();
