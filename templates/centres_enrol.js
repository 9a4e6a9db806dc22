// /centres/enrol: a new X25519 age identity (typage), offered as a file in age-keygen's format,
// and its public recipient (age1…) to send to the board. Nothing is sent or stored.
import { generateX25519Identity, identityToRecipient } from "/vendor/age.js";

const $ = (id) => document.getElementById(id);
const CENTRE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
let fileUrl = null;

function say(text, error) {
  $("message").textContent = text;
  $("message").className = error ? "error" : "";
}

async function make() {
  const centre = $("centre").value.trim();
  if (centre && !CENTRE.test(centre)) {
    say("A centre number has only letters, digits, '.', '_' or '-'.", true);
    return;
  }
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const text = `# created: ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}\n` +
    `# public key: ${recipient}\n${identity}\n`;
  if (fileUrl) URL.revokeObjectURL(fileUrl);
  fileUrl = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const link = $("identity-file");
  link.href = fileUrl;
  link.download = `results-identity${centre ? "-" + centre : ""}.txt`;
  $("recipient").value = recipient;
  const who = $("officer").value.trim();
  $("letter").textContent = `For example: "Please add this public key for centre ` +
    `${centre || "(your centre number)"}${who ? ", exams officer " + who : ""}: ${recipient}"`;
  $("made").hidden = false;
  document.querySelector("main").dataset.state = "made";
  say("Your identity is made. Save the file now: this page does not keep it.");
  link.focus();
}

$("make").addEventListener("click", () => make().catch((e) => {
  console.error(e);
  say("This browser could not make an identity. Use an up-to-date browser, or age-keygen.", true);
}));
$("copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("recipient").value);
    say("The public key is copied.");
  } catch {
    $("recipient").select();
    say("Select the public key and copy it (Ctrl+C or Cmd+C).");
  }
});
