// Bundle the npm libraries the site's pages import into templates/vendor/ as ES modules,
// and record each bundle's packages, versions and SHA-256 in templates/vendor/vendor.json.
// Run by scripts/bootstrap.sh after `npm ci`; the output is generated, not committed.
// Each bundle re-exports only what the pages use, so the rest of a library is left out.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "templates", "vendor");

// file in templates/vendor -> package -> the names the pages import from it.
// age-encryption: X25519 only (Debian's age and pyrage read it); no post-quantum hybrids.
// @scure/base (typage's own bech32) turns a remembered identity into a non-extractable key.
const BUNDLES = {
  "age.js": {
    "age-encryption": ["Decrypter", "generateX25519Identity", "identityToRecipient"],
    "@scure/base": ["bech32"],
  },
  "fflate.js": { fflate: ["unzipSync"] },
};

function installedVersion(pkg) {
  return JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
}

function packageOf(input) {
  // node_modules/@scope/name/... or node_modules/name/... -> the package name
  const parts = input.split("node_modules/").pop().split("/");
  return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
}

mkdirSync(out, { recursive: true });
const record = {};
for (const [file, spec] of Object.entries(BUNDLES)) {
  const entry = Object.entries(spec)
    .map(([pkg, names]) => `export { ${names.join(", ")} } from "${pkg}";`).join("\n");
  const result = await esbuild.build({
    stdin: { contents: entry,
      resolveDir: root, sourcefile: `${file}-entry.js` },
    bundle: true, format: "esm", target: "es2022", platform: "browser", minify: true,
    legalComments: "inline", write: false, metafile: true, logLevel: "warning",
  });
  const code = result.outputFiles[0].contents;
  writeFileSync(join(out, file), code);
  const included = [...new Set(Object.keys(result.metafile.inputs)
    .filter((i) => i.includes("node_modules/")).map(packageOf))].sort();
  record[file] = {
    exports: Object.fromEntries(Object.entries(spec)
      .map(([pkg, names]) => [pkg, { version: installedVersion(pkg), names }])),
    includes: Object.fromEntries(included.map((p) => [p, installedVersion(p)])),
    sha256: createHash("sha256").update(code).digest("hex"), bytes: code.length,
  };
}
writeFileSync(join(out, "vendor.json"), JSON.stringify(record, null, 2) + "\n");
console.log(`bundle-js: ${Object.keys(record).join(", ")} -> templates/vendor/`);
