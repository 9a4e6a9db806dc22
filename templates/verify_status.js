// A statement's status: still valid, superseded by a newer one (after a results enquiry)
// or withdrawn. Asks the verification app, sending ONLY the statement id; on the static
// site (no app behind /api/status) reads the series' public status list instead.

import { longDate } from "./wording.js";

// The answer of /api/status: { status, date }; status "unknown" for an id it does not know.
export async function statementStatus(statementId, seriesCode) {
  const response = await fetch("/api/status", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ statement_id: statementId }),
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
  if (!json && seriesCode) return listedStatus(statementId, seriesCode);
  if (response.status === 404) return { status: "unknown", date: null };
  if (!response.ok) throw new Error("the status service did not answer");
  return response.json();
}

// The public status list of a series names only retired statements (superseded or
// withdrawn): the entry for this statement, or null when it is not retired.
export async function listedEntry(statementId, seriesCode) {
  const response = await fetch(`/status/${seriesCode}.json`, { cache: "no-store" });
  if (!response.ok) throw new Error("no status list");
  const list = await response.json();
  return Object.hasOwn(list.statements, statementId) ? list.statements[statementId] : null;
}

async function listedStatus(statementId, seriesCode) {
  const entry = await listedEntry(statementId, seriesCode);
  return entry ? { status: entry.status, date: entry.date } : { status: "valid", date: null };
}

// The status line for an answer, its status word from the wording catalogue.
export function statusText(words, answer) {
  const word = words.statement_status[answer.status];
  const when = longDate(words, answer.date);
  const on = when ? ` on ${when}` : "";
  switch (answer.status) {
    case "valid":
      return `Status: ${word}. This is the current statement of these results.`;
    case "superseded":
      return `Status: ${word}${on}, after a results enquiry. Ask the candidate for the ` +
        "newer statement.";
    case "withdrawn":
      return `Status: ${word}${on}.`;
    default:
      return "Status: the verification service does not know this statement.";
  }
}

// Ask, then write the status line into element (its data-status says which); the answer.
export async function showStatus(words, statementId, element, seriesCode) {
  element.textContent = "Checking the statement's status…";
  try {
    const answer = await statementStatus(statementId, seriesCode);
    element.textContent = statusText(words, answer);
    element.dataset.status = answer.status;
    return answer;  // the app's answer also names the statement's centre
  } catch {
    element.textContent = "The status could not be checked just now; the signature " +
      "check still holds. Try again later.";
    element.dataset.status = "error";
    return null;
  }
}
