// The QR check's status line: asks the verification app whether a statement is still
// valid, superseded by a newer one (after a results enquiry) or withdrawn.
// It sends ONLY the statement id, never the token or anything else from the statement.
// Also the helpers the QR verify page and the secure-link viewer share (both load
// this file first): long dates and base64url.
"use strict";
(function () {
  const LONG_MONTHS = ["January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"];

  function longDate(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return m ? `${Number(m[3])} ${LONG_MONTHS[Number(m[2]) - 1]} ${m[1]}` : "";
  }

  // base64url without padding (the keyset's public keys, a secure link's key) to bytes.
  function b64url(text) {
    const padded = text + "=".repeat((4 - (text.length % 4)) % 4);
    const b = atob(padded.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
  }

  async function statementStatus(statementId, seriesCode) {
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
  async function listedEntry(statementId, seriesCode) {
    const response = await fetch(`/status/${seriesCode}.json`, { cache: "no-store" });
    if (!response.ok) throw new Error("no status list");
    return (await response.json()).statements[statementId] || null;
  }

  // On the static site there is no app behind /api/status: read the list instead.
  async function listedStatus(statementId, seriesCode) {
    const entry = await listedEntry(statementId, seriesCode);
    return entry ? { status: entry.status, date: entry.date } : { status: "valid", date: null };
  }

  function statusText(answer) {
    const when = longDate(answer.date);
    switch (answer.status) {
      case "valid":
        return "Status: valid. This is the current statement of these results.";
      case "superseded":
        return "Status: superseded. A newer statement replaced this one" +
          (when ? ` on ${when}` : "") + ", after a results enquiry. Ask the candidate for it.";
      case "withdrawn":
        return "Status: withdrawn by the awarding body" + (when ? ` on ${when}` : "") + ".";
      default:
        return "Status: the verification service does not know this statement.";
    }
  }

  async function showStatus(statementId, element, seriesCode) {
    element.textContent = "Checking the statement's status…";
    try {
      const answer = await statementStatus(statementId, seriesCode);
      element.textContent = statusText(answer);
      element.dataset.status = answer.status;
    } catch (err) {
      element.textContent = "The status could not be checked just now; the signature " +
        "check still holds. Try again later.";
      element.dataset.status = "error";
    }
  }

  window.resultsStatus = {
    statementStatus, statusText, showStatus, listedEntry, longDate, b64url, LONG_MONTHS,
  };
})();
