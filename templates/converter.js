// The scale score converter: looks the score up in the page's own tables (no data here).

const form = document.getElementById("converter");
const exam = document.getElementById("exam");
const score = document.getElementById("score");
const answer = document.getElementById("answer");

function lookup(code, value) {
  const table = document.querySelector(`table.conversion[data-exam="${code}"]`);
  for (const row of table.tBodies[0].rows) {
    if (row.cells[0].textContent === String(value)) return row.cells[1].textContent;
  }
  return null;
}

function update() {
  const text = score.value.trim();
  if (text === "") { answer.textContent = ""; return; }
  const value = Number(text);
  const scale = Number.isInteger(value) ? lookup(exam.value, value) : null;
  answer.textContent = scale === null
    ? "Enter a whole standardised score from 45 to 100."
    : `A standardised score of ${value} in ${exam.selectedOptions[0].textContent} ` +
      `is ${scale} on the Cambridge English Scale.`;
}

form.hidden = false;
form.addEventListener("submit", (event) => event.preventDefault());
exam.addEventListener("change", update);
score.addEventListener("input", update);
