// Lets index.html paint its placeholder before anything else is fetched (issue 16: LCP):
//   - the stylesheet Trunk linked goes inline, as `<style data-href=…>` (the file stays: ciba-idp's
//     /ciba/mount.js links it into the mount's shadow root and reads its name from data-href);
//     the CSP allows the inline style by its hash, as it does the scripts;
//   - Trunk's loader script and the preloads of the glue, wasm and split loader move into
//     `<template id=ciba-after-paint>`, which index.html's script clones into <head> once the page
//     has painted (a template's contents are inert until then).
// Runs after build/minify-glue.mjs (which renews the preloads' integrity) and before
// build/service-worker.mjs (whose version hashes index.html).
//
// Usage: node build/paint-first.mjs <dist>
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dist = process.argv[2] ?? "dist";
const indexPath = join(dist, "index.html");
let index = readFileSync(indexPath, "utf8");

/** Every match of `pattern` in index.html, requiring `count` of them (one number, or at least `min`). */
function all(pattern, what, { count, min }) {
  const found = [...index.matchAll(pattern)].map((match) => match[0]);
  if ((count !== undefined && found.length !== count) || (min !== undefined && found.length < min)) {
    throw new Error(`index.html: ${found.length} ${what}, expected ${count ?? `at least ${min}`}`);
  }
  return found;
}

const [stylesheet] = all(/<link[^>]*\brel="?stylesheet\b[^>]*>/g, "stylesheet links", { count: 1 });
const href = stylesheet.match(/\bhref="?(\/ciba\/main-[0-9a-f]+\.css)\b/)?.[1];
if (!href) throw new Error(`index.html: cannot read the stylesheet's href in ${stylesheet}`);
const css = readFileSync(join(dist, href.replace(/^\/ciba\//, "")), "utf8");
if (/<\/style/i.test(css)) throw new Error(`${href} contains </style`);
index = index.replace(stylesheet, () => `<style data-href=${href}>${css}</style>`);

const [loader] = all(/<script type="?module"?>[\s\S]*?<\/script>/g, "module scripts", { count: 1 });
if (!loader.includes("import init, * as bindings from ")) throw new Error("index.html: not Trunk's loader");
const modules = all(/<link[^>]*\brel="?modulepreload\b[^>]*>/g, "module preloads (glue, split loader)", { min: 2 });
const [wasm] = all(/<link[^>]*\btype="?application\/wasm\b[^>]*>/g, "wasm preloads", { count: 1 });
const template = "<template id=ciba-after-paint>";
all(new RegExp(template, "g"), "after-paint templates", { count: 1 });
all(/<\/template>/g, "templates", { count: 1 });
for (const tag of [loader, wasm, ...modules]) index = index.replace(tag, "");
// In the order the browser should ask: the wasm first (the most bytes; each request costs the
// main thread a few ms at a phone's speed), then the template's API preloads, then the glue.
index = index
  .replace(template, () => template + wasm)
  .replace("</template>", () => [loader, ...modules].join("") + "</template>");
writeFileSync(indexPath, index);
console.log(`paint-first: ${href} inline (${css.length} bytes); wasm, API, loader and ${modules.length} module preloads after paint`);
