// Splits the consent page's code off the wasm Trunk built (src/pages/consent_code.rs marks the split
// point): the list's first load then carries only what the list needs. Trunk has no step between
// cargo and wasm-bindgen, so this redoes those two for the raw wasm Trunk's cargo build left:
//   wasm-split-cli   raw wasm -> main.wasm, split_consent.wasm, __wasm_split.js (the loader)
//   wasm-bindgen     main.wasm -> the glue and _bg.wasm, under Trunk's hashed names
//   wasm-opt         each wasm, with index.html's data-wasm-opt and data-wasm-opt-params
// and names the split module and the loader by their content (like Trunk's files, so ciba-idp and
// hosts serve them as immutable). It then renews the integrity attributes Trunk wrote into
// index.html, preloads the loader with the glue and names the split module in index.html's script
// (which preloads it on a consent page). Runs before build/minify-glue.mjs.
//
// Usage: node build/split-wasm.mjs <dist> <raw wasm from cargo>
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [dist = "dist", raw] = process.argv.slice(2);
if (!raw) throw new Error("usage: split-wasm.mjs <dist> <raw wasm>");
const run = (command, args) => execFileSync(command, args, { stdio: ["ignore", "inherit", "inherit"] });
const sha = (algorithm, bytes) => createHash(algorithm).update(bytes);
const contentName = (stem, ext, bytes) => `${stem}-${sha("sha256", bytes).digest("hex").slice(0, 16)}.${ext}`;
const integrity = (bytes) => `sha384-${sha("sha384", bytes).digest("base64")}`;

// The wasm-opt settings Trunk used, from the source index.html's `rel="rust"` link.
const source = readFileSync("index.html", "utf8");
const level = source.match(/data-wasm-opt="(\w+)"/)?.[1];
const params = source.match(/data-wasm-opt-params="([^"]*)"/)?.[1];
if (!level || params === undefined) throw new Error("index.html: no data-wasm-opt / data-wasm-opt-params");
const optimise = (input, output) => run("wasm-opt", [`-O${level}`, ...params.split(/\s+/), input, "-o", output]);

const wasmName = readdirSync(dist).find((name) => name.endsWith("_bg.wasm"));
if (!wasmName) throw new Error(`no _bg.wasm in ${dist}: run trunk first`);
const stem = wasmName.replace(/_bg\.wasm$/, ""); // ciba-approval-<hash>, Trunk's
const indexPath = join(dist, "index.html");
let index = readFileSync(indexPath, "utf8");
const replaceFile = (name, bytes) => {
  const before = integrity(readFileSync(join(dist, name)));
  if (!index.includes(before)) throw new Error(`index.html has no integrity for ${name}`);
  index = index.replaceAll(before, integrity(bytes));
  writeFileSync(join(dist, name), bytes);
};

const work = mkdtempSync(join(tmpdir(), "split-wasm-"));
try {
  run("wasm-split-cli", [raw, work]);
  const chunks = readdirSync(work).filter((name) => name.endsWith(".wasm") && name !== "main.wasm");
  if (chunks.length === 0) throw new Error("wasm-split-cli found no split point: was the `split` feature on?");
  run("wasm-bindgen", ["--target", "web", "--no-typescript", "--keep-lld-exports", "--out-dir", work,
    "--out-name", stem, join(work, "main.wasm")]);

  let loader = readFileSync(join(work, "__wasm_split.js"), "utf8");
  const swap = (text, from, to, what) => {
    if (!text.includes(from)) throw new Error(`${what}: ${from} not found`);
    return text.replaceAll(from, to);
  };
  for (const chunk of chunks) {
    optimise(join(work, chunk), join(work, `opt-${chunk}`));
    const bytes = readFileSync(join(work, `opt-${chunk}`));
    const name = contentName(chunk.replace(/\.wasm$/, "").replaceAll("_", "-"), "wasm", bytes);
    writeFileSync(join(dist, name), bytes);
    loader = swap(loader, `"./${chunk}"`, `"./${name}"`, "__wasm_split.js");
    // index.html's script preloads it on a consent page.
    index = swap(index, `/ciba/${chunk.replaceAll("_", "-")}`, `/ciba/${name}`, "index.html");
  }
  loader = swap(loader, `from "./main.js"`, `from "./${stem}.js"`, "__wasm_split.js");
  const loaderBytes = Buffer.from(loader, "utf8");
  const loaderName = contentName("split", "js", loaderBytes);
  writeFileSync(join(dist, loaderName), loaderBytes);

  optimise(join(work, `${stem}_bg.wasm`), join(work, "opt-main.wasm"));
  replaceFile(wasmName, readFileSync(join(work, "opt-main.wasm")));
  const glue = swap(readFileSync(join(work, `${stem}.js`), "utf8"), `from "./__wasm_split.js"`,
    `from "./${loaderName}"`, `${stem}.js`);
  replaceFile(`${stem}.js`, Buffer.from(glue, "utf8"));

  // The glue imports the loader: fetched with it, not after it.
  const gluePreload = index.match(new RegExp(`<link[^>]*href=/ciba/${stem}\\.js[^>]*>`))?.[0];
  if (!gluePreload) throw new Error("index.html: no modulepreload of the glue");
  index = index.replace(gluePreload, `${gluePreload}<link crossorigin href=/ciba/${loaderName} ` +
    `integrity=${integrity(loaderBytes)} rel=modulepreload>`);
  writeFileSync(indexPath, index);
  console.log(`split-wasm: ${chunks.join(", ")} split off; loader ${loaderName}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
