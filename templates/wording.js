// How results read, from the catalogue the build writes (/wording.json, made by the same
// Python code that words the statements): month names, result codes, statement statuses.

// The catalogue; throws when it cannot be fetched or is not the catalogue.
export async function loadWording(url = "/wording.json") {
  const response = await fetch(url, { cache: "no-cache", credentials: "omit" });
  if (!response.ok) throw new Error("no wording catalogue");
  const words = await response.json();
  if (!Array.isArray(words.months) || words.months.length !== 12) {
    throw new Error("not the wording catalogue");
  }
  return words;
}

// An ISO date as the statement prints it: 20 August 2026 ("" for anything else).
export function longDate(words, iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  const month = m ? words.months[Number(m[2]) - 1] : undefined;
  return month ? `${Number(m[3])} ${month} ${m[1]}` : "";
}

// A series: June 2026.
export function monthYear(words, year, month) {
  return `${words.months[month - 1]} ${year}`;
}

// A token's result line, as the statement words it (wording.component_result and
// wording.overall_grade), the overall result with its score and CEFR level.
export function resultText(words, r) {
  const w = words.words;
  if (r.code === "") {
    if (r.status) return words.overall_status[r.status];
    const grade = !r.grade ? w.no_grade
      : r.grade.startsWith("Level") ? r.grade : `${w.grade} ${r.grade}`;
    return grade + (r.value === null ? "" : ` (${r.value})`) +
      (r.cefr ? `, ${w.cefr} ${r.cefr}` : "");
  }
  if (r.status) return words.component_status[r.status];
  if (r.grade) {
    return r.value === null ? r.grade
      : `${r.grade} (${r.value} ${r.value === 1 ? w.mark : w.marks})`;
  }
  return r.value === null ? "" : String(r.value);
}
