// Results Overview: filter as you type, live "days available", passed deadlines, appeal dates.
// Everything works without this script; it only adds conveniences. No network, no storage.
(function () {
  "use strict";
  var DAY = 86400000;

  function fold(text) {
    // Case- and accent-insensitive matching: "zoe" finds "Zoë".
    return text.normalize("NFKD").replace(/\p{M}/gu, "").toLocaleLowerCase();
  }
  function parseDay(iso) {
    var p = iso.split("-");
    return Date.UTC(+p[0], +p[1] - 1, +p[2]);
  }
  function today() {
    var now = new Date();
    return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  }
  var WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  function longDate(ms) {
    // As the rest of the page writes dates: Monday 7 September 2026.
    var d = new Date(ms);
    return WEEKDAYS[d.getUTCDay()] + " " + d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] +
      " " + d.getUTCFullYear();
  }

  var rows = Array.prototype.slice.call(document.querySelectorAll("#candidates tbody tr"));
  var keys = rows.map(function (row) { return fold(row.getAttribute("data-search")); });
  var filter = document.getElementById("filter");
  var count = document.getElementById("count");
  var none = document.getElementById("none");
  function applyFilter() {
    var words = fold(filter.value).split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, i) {
      var match = words.every(function (w) { return keys[i].indexOf(w) !== -1; });
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = words.length
      ? shown + " of " + rows.length + " statements match"
      : rows.length + (rows.length === 1 ? " statement" : " statements");
    none.hidden = shown !== 0;
  }
  filter.addEventListener("input", applyFilter);
  applyFilter();

  var now = today();
  document.querySelectorAll(".days-left").forEach(function (cell) {
    var from = Math.max(now, parseDay(cell.getAttribute("data-from")));
    cell.textContent = String(Math.max(0, Math.round((parseDay(cell.getAttribute("data-until")) - from) / DAY)));
  });
  document.querySelectorAll(".deadline").forEach(function (p) {
    if (now > parseDay(p.getAttribute("data-deadline"))) {
      p.classList.add("is-passed");
      p.querySelector(".passed").hidden = false;
      // The application link goes once its deadline has passed, as the portal's does.
      p.querySelectorAll(".until-deadline").forEach(function (link) { link.remove(); });
    }
  });

  // The offline page carries these on <body>; /centres/open on the element holding the overview.
  var host = document.querySelector("[data-bank-holidays]") || document.body;
  var closed = new Set(host.getAttribute("data-bank-holidays").split(" "));
  var appealDays = +host.getAttribute("data-appeal-days");
  function addWorkingDays(start, days) {
    var day = start;
    while (days > 0) {
      day += DAY;
      var weekday = new Date(day).getUTCDay();
      if (weekday !== 0 && weekday !== 6 && !closed.has(new Date(day).toISOString().slice(0, 10))) {
        days -= 1;
      }
    }
    return day;
  }
  var calc = document.getElementById("appeal-calc");
  var outcome = document.getElementById("outcome");
  var answer = document.getElementById("appeal-deadline");
  calc.hidden = false;
  outcome.addEventListener("input", function () {
    answer.textContent = outcome.value
      ? "Submit the appeal by " + longDate(addWorkingDays(parseDay(outcome.value), appealDays)) + "."
      : "";
  });
}());
