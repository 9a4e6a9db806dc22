// Results Overview: filter as you type, live "days available", passed deadlines, appeal dates.
// Everything works without this script; it only adds conveniences. No network, no storage.
// An ES module with no imports: the offline overview inlines it and calls startOverview on
// its <body>; /centres/open imports it and calls it on the element holding the overview.
// Both carry the data it needs (words from results_online.wording, bank holidays, appeal
// days) as data- attributes, since the offline page can fetch nothing.

const DAY = 86400000;

function fold(text) {
  // Case- and accent-insensitive matching: "zoe" finds "Zoë".
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

function parseDay(iso) {
  const p = iso.split("-");
  return Date.UTC(+p[0], +p[1] - 1, +p[2]);
}

function today() {
  const now = new Date();
  return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
}

export function startOverview(host) {
  const words = JSON.parse(host.dataset.wording);
  const longDate = (ms) => {
    // As wording.weekday_date writes dates: Monday 7 September 2026 (weekdays from Monday).
    const d = new Date(ms);
    return `${words.weekdays[(d.getUTCDay() + 6) % 7]} ${d.getUTCDate()} ` +
      `${words.months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  };
  const $ = (id) => host.querySelector(`#${id}`);

  const rows = [...host.querySelectorAll("#candidates tbody tr")];
  const keys = rows.map((row) => fold(row.dataset.search));
  const filter = $("filter");
  const count = $("count");
  const none = $("none");
  const applyFilter = () => {
    const typed = fold(filter.value).split(/\s+/).filter(Boolean);
    let shown = 0;
    rows.forEach((row, i) => {
      const match = typed.every((w) => keys[i].includes(w));
      row.hidden = !match;
      if (match) shown += 1;
    });
    count.textContent = typed.length
      ? `${shown} of ${rows.length} statements match`
      : `${rows.length} ${rows.length === 1 ? "statement" : "statements"}`;
    none.hidden = shown !== 0;
  };
  filter.addEventListener("input", applyFilter);
  applyFilter();

  const now = today();
  for (const cell of host.querySelectorAll(".days-left")) {
    const from = Math.max(now, parseDay(cell.dataset.from));
    cell.textContent = String(Math.max(0, Math.round((parseDay(cell.dataset.until) - from) / DAY)));
  }
  for (const p of host.querySelectorAll(".deadline")) {
    if (now > parseDay(p.dataset.deadline)) {
      p.classList.add("is-passed");
      p.querySelector(".passed").hidden = false;
      // The application link goes once its deadline has passed, as the portal's does.
      for (const link of p.querySelectorAll(".until-deadline")) link.remove();
    }
  }

  const closed = new Set(host.dataset.bankHolidays.split(" "));
  const appealDays = Number(host.dataset.appealDays);
  const addWorkingDays = (start, days) => {
    let day = start;
    while (days > 0) {
      day += DAY;
      const weekday = new Date(day).getUTCDay();
      if (weekday !== 0 && weekday !== 6 && !closed.has(new Date(day).toISOString().slice(0, 10))) {
        days -= 1;
      }
    }
    return day;
  };
  const outcome = $("outcome");
  const answer = $("appeal-deadline");
  $("appeal-calc").hidden = false;
  outcome.addEventListener("input", () => {
    answer.textContent = outcome.value
      ? `Submit the appeal by ${longDate(addWorkingDays(parseDay(outcome.value), appealDays))}.`
      : "";
  });
}
