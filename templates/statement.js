// The secure-link viewer: /statement#<statement id>.<key>. Fetches the ciphertext
// /s/<id>.bin, decrypts it with WebCrypto (AES-256-GCM, the id as associated data)
// and shows the statement. The key never leaves this page. Container: SPEC.md.
// Needs verify_status.js (loaded first): the public status list, dates, base64url.
"use strict";
(function () {
  const ID = /^[0-9A-HJKMNP-TV-Z]{16}$/;
  const KEY = /^[A-Za-z0-9_-]{43}$/;
  const main = document.getElementById("main");
  const message = document.getElementById("message");
  const notice = document.getElementById("notice");
  const holder = document.getElementById("statement");

  function fail(text) {
    message.textContent = text;
    message.className = "error";
    message.setAttribute("role", "alert");
    main.dataset.state = "error";
  }

  function parseLink(fragment) {
    const dot = fragment.indexOf(".");
    const id = fragment.slice(0, dot).toUpperCase();
    const key = fragment.slice(dot + 1);
    if (dot < 0 || !ID.test(id) || !KEY.test(key)) return null;
    return { id, key: window.resultsStatus.b64url(key) };
  }

  async function decrypt(link, blob) {
    const key = await crypto.subtle.importKey("raw", link.key, "AES-GCM", false, ["decrypt"]);
    const plain = new Uint8Array(await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: blob.subarray(0, 12),
        additionalData: new TextEncoder().encode(link.id) },
      key, blob.subarray(12)));
    const size = new DataView(plain.buffer).getUint32(0);
    if (4 + size > plain.length) throw new Error("truncated");
    return {
      html: new TextDecoder("utf-8", { fatal: true }).decode(plain.subarray(4, 4 + size)),
      pdf: plain.subarray(4 + size),
    };
  }

  // Retired (superseded or withdrawn) per the series' public status list, or null.
  async function retired(id) {
    try {
      return await window.resultsStatus.listedEntry(id, main.dataset.series);
    } catch (err) {
      return null;
    }
  }

  function longDate(iso) {
    return window.resultsStatus.longDate(iso) || "a later date";
  }

  function retiredText(entry) {
    return entry.status === "superseded"
      ? `A newer statement replaced this one on ${longDate(entry.date)}, after a results ` +
        "enquiry. Use the link in your most recent results e-mail."
      : `This statement was withdrawn by the awarding body on ${longDate(entry.date)}.`;
  }

  async function open() {
    const fragment = location.hash.slice(1);
    // Take the key out of the address bar (and history) before anything else happens.
    if (fragment) history.replaceState(null, "", location.pathname + location.search);
    if (!fragment) {
      fail("This page opens a Statement of Results from the secure link in your results " +
        "e-mail. Open the whole link from the e-mail (it ends with a long code after #).");
      return;
    }
    const link = parseLink(decodeURIComponent(fragment));
    if (!link) {
      fail("This link is incomplete or damaged. Open it again from your results e-mail, " +
        "or copy the whole link, including everything after #.");
      return;
    }
    let response;
    try {
      response = await fetch(`/s/${link.id}.bin`, { cache: "no-cache", credentials: "omit" });
    } catch (err) {
      fail("Your statement could not be fetched: check your connection and open the link again.");
      return;
    }
    if (response.status === 404 || response.status === 403) {
      const entry = await retired(link.id);
      if (entry) {
        fail(retiredText(entry));
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
      return;
    }
    if (!response.ok) {
      fail("The site could not send your statement just now. Try the link again later.");
      return;
    }
    let content;
    try {
      content = await decrypt(link, new Uint8Array(await response.arrayBuffer()));
    } catch (err) {
      fail("This link does not open this statement: it has been changed or copied " +
        "incompletely. Open it again from your results e-mail.");
      return;
    }
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
    const entry = await retired(link.id);  // a stale copy still cached somewhere
    if (entry) {
      notice.textContent = retiredText(entry);
      notice.hidden = false;
      main.dataset.status = entry.status;
    }
  }

  open();
})();
