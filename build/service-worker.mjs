// Writes the service worker (build/sw-source.js) into dist/sw.js with this build's list of assets
// to precache and a version made from their content, so every build whose files differ installs a
// new worker (the browser compares sw.js byte for byte) and drops the old cache. Runs after
// build/minify-glue.mjs, which changes the JS glue, and before the Makefile compresses dist/.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const dist = process.argv[2] ?? "dist";
const base = "/ciba/"; // Trunk.toml public_url: the worker's scope.

/** Every file under `dir`, relative to dist/ with `/` separators. */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(dist, path).split(sep).join("/")];
  });
}

// What a page load needs and never changes under its name, plus the icons and manifest the
// installed app shows. Not the compressed copies (the server picks those), not index.html (the
// worker fetches it as the shell), not sw.js itself, not the stylesheet (index.html has it inline;
// only mount.js, outside the worker's scope, links the file).
const precached = (name) =>
  /\.(js|wasm|png|webmanifest)$/.test(name) && name !== "sw.js";
const assets = files(dist).filter(precached).sort();
if (!assets.some((name) => name.endsWith(".wasm"))) throw new Error(`no wasm in ${dist}: build first`);

const hash = createHash("sha256");
for (const name of [...assets, "index.html"]) {
  hash.update(name).update("\0").update(readFileSync(join(dist, name))).update("\0");
}
const version = hash.digest("hex").slice(0, 16);

let source = readFileSync(new URL("./sw-source.js", import.meta.url), "utf8");
const fill = (line, value) => {
  if (!source.includes(line)) throw new Error(`build/sw-source.js lost the line ${line}`);
  source = source.replace(line, value);
};
fill('const VERSION = "dev";', `const VERSION = ${JSON.stringify(version)};`);
fill("const ASSETS = [];", `const ASSETS = ${JSON.stringify(assets.map((name) => base + name))};`);
writeFileSync(join(dist, "sw.js"), source);
console.log(`sw.js: version ${version}, ${assets.length} assets`);
