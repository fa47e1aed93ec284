// Minifies the wasm-bindgen JS glue Trunk wrote into dist/ (terser, as an ES module: the names the
// page and mount.js import are exports and stay), then puts the new SHA-384 into index.html's
// integrity attribute so Subresource Integrity still holds. Trunk does not minify this file itself.
// ~2 KB of the first load (brotli); README "Size and caching".
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { minify } from "terser";

const dist = process.argv[2] ?? "dist";
const indexPath = join(dist, "index.html");
let index = readFileSync(indexPath, "utf8");
const integrity = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;

for (const name of readdirSync(dist).filter((n) => n.endsWith(".js"))) {
  const path = join(dist, name);
  const source = readFileSync(path);
  const { code } = await minify(source.toString("utf8"), { module: true, compress: true, mangle: true });
  writeFileSync(path, code);
  const before = integrity(source);
  if (index.includes(before)) index = index.replaceAll(before, integrity(Buffer.from(code)));
}
writeFileSync(indexPath, index);
