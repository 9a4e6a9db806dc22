// Reads a JSON list of token hex strings on stdin; writes, for each, what templates/token.js
// decodes (or null when it refuses). tests/test_token_js.py compares this with Python.
import { decodeToken } from "../../templates/token.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const tokens = JSON.parse(Buffer.concat(chunks).toString("utf-8"));
const out = tokens.map((hex) => {
  try {
    const d = decodeToken(Uint8Array.from(Buffer.from(hex, "hex")));
    return { key_id: d.keyId, statement_id: d.statementIdHex, revision: d.revision,
      issue_date: d.issueDate, series_year: d.seriesYear, series_month: d.seriesMonth,
      test: d.test, candidate_number: d.candidateNumber, name: d.name, results: d.results };
  } catch (err) {
    if (err.name !== "InvalidToken") throw err;
    return null;
  }
});
process.stdout.write(JSON.stringify(out));
