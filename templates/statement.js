// The secure-link viewer (/statement#<id>.<key>): takes the key out of the address bar,
// fetches /s/<id>.bin, opens it (statement_blob.js) and shows the statement with its PDF.
// The key never leaves this page. Whatever a hostile fragment makes fail ends in a message.

import { DamagedLink, openStatement, parseLink } from "./statement_blob.js";
import { listedEntry } from "./verify_status.js";
import { loadWording, longDate } from "./wording.js";

const main = document.getElementById("main");
const message = document.getElementById("message");
const notice = document.getElementById("notice");
const holder = document.getElementById("statement");

const DAMAGED = "This link is incomplete or damaged. Open it again from your results " +
  "e-mail, or copy the whole link, including everything after #.";
const CHANGED = "This link does not open this statement: it is damaged, changed or copied " +
  "incompletely. Open it again from your results e-mail.";

function fail(text) {
  message.textContent = text;
  message.className = "error";
  message.setAttribute("role", "alert");
  main.dataset.state = "error";
}

// Retired (superseded or withdrawn) per the series' public status list, or null.
async function retired(id) {
  try {
    return await listedEntry(id, main.dataset.series);
  } catch {
    return null;
  }
}

async function retiredText(entry) {
  let when = "";
  try {
    when = longDate(await loadWording(), entry.date);
  } catch {
    when = entry.date || "";  // no catalogue: the ISO date still says when
  }
  when ||= "a later date";
  return entry.status === "superseded"
    ? `A newer statement replaced this one on ${when}, after a results enquiry. Use the ` +
      "link in your most recent results e-mail."
    : `This statement was withdrawn by the awarding body on ${when}.`;
}

async function missing(link) {
  const entry = await retired(link.id);
  if (entry) {
    fail(await retiredText(entry));
    main.dataset.status = entry.status;
    return;
  }
  const until = main.dataset.availableUntil;
  const gone = until && new Date().toISOString().slice(0, 10) > until;
  fail(gone
    ? `Statements were available on this site until ${main.dataset.availableUntilText}. ` +
      "Your centre or the awarding body can still confirm your results."
    : "There is no statement for this link on this site. If it came in a results e-mail, " +
      "check that you opened the whole link, or ask your exam centre.");
}

function showStatement(link, content) {
  // Safe to insert: AES-GCM authenticated it as the board's own markup; the CSP
  // blocks any script or inline style in it anyway.
  holder.innerHTML = content.html;
  const pdf = document.getElementById("pdf");
  pdf.href = URL.createObjectURL(new Blob([content.pdf], { type: "application/pdf" }));
  pdf.download = `Statement-of-Results-${link.id}.pdf`;
  document.getElementById("download").hidden = false;
  message.textContent = "Your statement is open.";
  main.dataset.state = "open";
  const title = holder.querySelector("h1");
  if (title) document.title = `${title.textContent} · ${document.title.split(" · ").pop()}`;
  document.getElementById("page-title").focus();
}

// On load: read the link and take the key out of the address bar, but fetch and decrypt
// nothing until the candidate presses "Open my statement". Mail systems' link scanners
// load and run every page a message links to; they do not press buttons, so they never
// fetch or render the statement.
function prepare() {
  const fragment = location.hash.slice(1);
  // Take the key out of the address bar (and history) before anything else happens.
  if (fragment) history.replaceState(null, "", location.pathname + location.search);
  if (!fragment) {
    fail("This page opens a Statement of Results from the secure link in your results " +
      "e-mail. Open the whole link from the e-mail (it ends with a long code after #).");
    return;
  }
  const link = parseLink(fragment);  // a damaged fragment throws here, before any button
  const gate = document.getElementById("gate");
  const button = document.getElementById("open");
  gate.hidden = false;
  main.dataset.state = "ready";
  button.addEventListener("click", () => {
    button.disabled = true;
    main.dataset.state = "opening";
    message.className = "";
    message.setAttribute("role", "status");
    message.textContent = "Opening your statement…";
    open(link)
      .catch((err) => fail(err instanceof DamagedLink ? DAMAGED : CHANGED))
      .finally(() => {
        if (main.dataset.state === "open") gate.hidden = true;
        else button.disabled = false;
      });
  });
  button.focus();
}

async function open(link) {
  let response;
  try {
    response = await fetch(`/s/${link.id}.bin`, { cache: "no-cache", credentials: "omit" });
  } catch {
    fail("Your statement could not be fetched: check your connection and open the link again.");
    return;
  }
  if (response.status === 404 || response.status === 403) {
    await missing(link);
    return;
  }
  if (!response.ok) {
    fail("The site could not send your statement just now. Try the link again later.");
    return;
  }
  let content;
  try {
    content = await openStatement(link, new Uint8Array(await response.arrayBuffer()));
  } catch (err) {
    fail(err instanceof DamagedLink ? CHANGED : "Your statement could not be fetched: " +
      "check your connection and open the link again.");
    return;
  }
  showStatement(link, content);
  const entry = await retired(link.id);  // a stale copy still cached somewhere
  if (entry) {
    notice.textContent = await retiredText(entry);
    notice.hidden = false;
    main.dataset.status = entry.status;
  }
}

// Any step a hostile fragment can break (a bad %-escape, base64, length, id, a blob that
// does not decrypt or does not parse) throws; none leaves the page without a message.
try {
  prepare();
} catch (err) {
  fail(err instanceof DamagedLink ? DAMAGED : CHANGED);
}
