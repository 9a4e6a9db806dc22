// The QR verify page (/q#<digits>): reads the token from the address, checks its signature
// against /.well-known/results-keys.json (token.js), shows what it says, then asks for the
// statement's status by id (verify_status.js), and reads the series' public catalogue
// (build/site/catalogue.py) for the board, test and paper or skill titles; without it
// (offline, blocked) the page still verifies and shows the codes the QR carries.
// The token never leaves the browser.

import { InvalidToken, fromLocation, parseKeyset, verifyToken } from "./token.js";
import { showStatus } from "./verify_status.js";
import { loadWording, longDate, monthYear, resultText } from "./wording.js";

const verdict = document.getElementById("verdict");
const status = document.getElementById("status");
const statement = document.getElementById("statement");

async function loadKeys() {
  const response = await fetch("/.well-known/results-keys.json", { cache: "no-cache" });
  if (!response.ok) throw new Error("no keyset");
  return parseKeyset(await response.json());
}

const CENTRE_PENDING = "Shown when the verification service answers";

async function loadCatalogue(series) {
  try {
    const response = await fetch(`/catalogue/${series}.json`, { cache: "no-cache",
      credentials: "omit" });
    if (!response.ok) return null;
    const doc = await response.json();
    return doc && doc.format === 1 && doc.tests ? doc : null;
  } catch {
    return null;
  }
}

// The titles the statement prints, in place of the codes the token carries.
function titled(data, catalogue) {
  const set = (id, text) => { document.getElementById(id).textContent = text; };
  const test = catalogue && Object.hasOwn(catalogue.tests, data.test)
    ? catalogue.tests[data.test] : null;
  document.getElementById("catalogue-note").hidden = Boolean(test);
  if (!test) return;
  set("s-board", catalogue.board);
  set("s-test-title", test.name);
  set("s-series-name", catalogue.series);
  set("test", `${test.name} (${data.test})`);
  const step = test.family === "step";
  set("part-heading", step ? "Paper" : "Skill");
  set("results-caption", step ? "Results by paper" : "Results by skill");
  for (const th of document.querySelectorAll("#results th[data-code]")) {
    const code = th.dataset.code;
    if (Object.hasOwn(test.components, code)) {
      th.textContent = step ? `${code} ${test.components[code]}` : test.components[code];
    }
  }
  if (step) {
    const overall = document.getElementById("overall");
    overall.textContent = "Overall result: graded by paper, with no overall grade.";
    overall.hidden = false;
  }
}

function clear() {
  document.getElementById("overall").hidden = true;
  for (const id of ["s-board", "s-test-title", "s-series-name"]) {
    document.getElementById(id).textContent = "";
  }
  document.getElementById("centre").textContent = CENTRE_PENDING;
}

function show(words, data) {
  const set = (id, text) => { document.getElementById(id).textContent = text; };
  set("name", data.name);
  set("number", data.candidateNumber);
  set("test", data.test);
  set("series", monthYear(words, data.seriesYear, data.seriesMonth));
  set("issued", longDate(words, data.issueDate));
  set("statement-id", `${data.statementId.match(/.{4}/g).join("-")} ` +
    `(revision ${data.revision})`);
  document.getElementById("results").replaceChildren(...data.results.map((r) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = r.code || words.words.overall;
    if (r.code) th.dataset.code = r.code;
    const td = document.createElement("td");
    td.textContent = resultText(words, r);
    tr.append(th, td);
    return tr;
  }));
  statement.hidden = false;
}

function say(text, valid) {
  verdict.textContent = text;
  verdict.className = valid === "true" ? "ok" : "error";
  verdict.dataset.valid = valid;
}

async function main() {
  statement.hidden = true;
  clear();
  delete verdict.dataset.valid;
  delete status.dataset.status;
  status.textContent = "";
  verdict.className = "";
  verdict.textContent = "Checking the signature…";
  let words;
  let data;
  try {
    const [keys, catalogue] = await Promise.all([loadKeys(), loadWording()]);
    words = catalogue;
    data = await verifyToken(keys, fromLocation(location));
  } catch (err) {
    if (err instanceof InvalidToken) {
      say("NOT VALID: this QR code was not issued by the awarding body, or it has been " +
        "changed. Do not rely on it.", "false");
    } else {
      say("The check could not run just now: the awarding body's keys could not be " +
        "fetched. Check your connection and scan the code again.", "unknown");
    }
    return;
  }
  say("Genuine: the awarding body signed these results.", "true");
  show(words, data);
  const series = `${data.seriesYear}-${String(data.seriesMonth).padStart(2, "0")}`;
  const [catalogue, answer] = await Promise.all([
    loadCatalogue(series), showStatus(words, data.statementId, status, series)]);
  titled(data, catalogue);
  if (answer && answer.centre) {
    document.getElementById("centre").textContent =
      `${answer.centre.number} ${answer.centre.name}`.trim();
  }
}

addEventListener("hashchange", main);  // another QR opened in the same tab
main();
