// Minifies the wasm-bindgen JS glue Trunk wrote into dist/ (terser, as an ES module: the names the
// page and mount.js import are exports and stay), then puts the new SHA-384 into index.html's
// integrity attribute so Subresource Integrity still holds. Trunk does not minify this file itself.
// ~2 KB of the first load (brotli); README "Size and caching".
//
// Before that, the names the wasm imports its JS functions by (`__wbg_now_463ac581d2fc7ea3`, ~200
// of them, each with a hash brotli cannot shrink) become short ones (`a`, `b`, …) in the wasm's
// import section and in the glue's import object alike, and the wasm's integrity is renewed too.
// And the glue's classes for Rust types whose exports wasm-opt removed (index.html: wasm-streams'
// `IntoUnderlying*`, which nothing makes) go: terser keeps a module's exported classes.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { minify } from "terser";

const dist = process.argv[2] ?? "dist";
const indexPath = join(dist, "index.html");
let index = readFileSync(indexPath, "utf8");
const integrity = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;
const renewIntegrity = (before, after) => {
  const old = integrity(before);
  if (index.includes(old)) index = index.replaceAll(old, integrity(after));
};

for (const wasmName of readdirSync(dist).filter((n) => n.endsWith("_bg.wasm"))) {
  const wasmPath = join(dist, wasmName);
  const gluePath = join(dist, wasmName.replace(/_bg\.wasm$/, ".js"));
  const wasm = readFileSync(wasmPath);
  const glueBefore = readFileSync(gluePath);
  let glue = glueBefore.toString("utf8");
  const shortened = shortenImports(wasm, (module, field, i) => {
    // Only wasm-bindgen's own imports; build/split-wasm.mjs's loader keeps its export names.
    if (!module.endsWith("_bg.js")) return field;
    const short = shortName(i);
    // The glue defines each import once, as a key of its import object (`name: function(…`).
    const key = new RegExp(`(?<![\\w$"])${field}(?=: )`, "g");
    const found = glue.match(key)?.length ?? 0;
    if (found !== 1) throw new Error(`${gluePath}: import ${module} ${field} found ${found} times`);
    glue = glue.replace(key, short);
    return short;
  });
  const exports = exportNames(shortened);
  for (const [, name] of glue.matchAll(/^export class (\w+) \{$/gm)) {
    if (exports.includes(`__wbg_${name.toLowerCase()}_free`)) continue;
    const pieces = [
      new RegExp(`^export class ${name} \\{\n[\\s\\S]*?\n\\}\n`, "m"),
      new RegExp(`^if \\(Symbol\\.dispose\\) ${name}\\.prototype\\[Symbol\\.dispose\\] = .*\n`, "m"),
      new RegExp(`^const ${name}Finalization = .*\n.*\n.*\n`, "m"),
    ];
    for (const piece of pieces) {
      if (!piece.test(glue)) throw new Error(`${gluePath}: class ${name} not laid out as expected`);
      glue = glue.replace(piece, "");
    }
    if (new RegExp(`\\b${name}\\b`).test(glue)) throw new Error(`${gluePath}: ${name} still used`);
  }
  writeFileSync(wasmPath, shortened);
  writeFileSync(gluePath, glue);
  renewIntegrity(wasm, shortened);
  renewIntegrity(glueBefore, Buffer.from(glue, "utf8"));
}

for (const name of readdirSync(dist).filter((n) => n.endsWith(".js"))) {
  const path = join(dist, name);
  const source = readFileSync(path);
  const { code } = await minify(source.toString("utf8"), { module: true, compress: true, mangle: true });
  writeFileSync(path, code);
  renewIntegrity(source, Buffer.from(code));
}
writeFileSync(indexPath, index);

/** `a`…`Z`, then `aa`, `ab`, …: distinct, and never `__proto__`. */
function shortName(i) {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let name = "";
  do {
    name = letters[i % letters.length] + name;
    i = Math.floor(i / letters.length) - 1;
  } while (i >= 0);
  return name;
}

/** The unsigned LEB128 number at `pos` in `bytes`, and the position after it. */
function readLeb128(bytes, pos) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, pos];
}

/** The names the wasm exports. */
function exportNames(bytes) {
  const readU32 = (pos) => readLeb128(bytes, pos);
  const names = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = readU32(pos + 1);
    if (id === 7) {
      let [count, at] = readU32(start);
      for (let i = 0; i < count; i++) {
        const [length, nameStart] = readU32(at);
        names.push(bytes.subarray(nameStart, nameStart + length).toString("utf8"));
        [, at] = readU32(nameStart + length + 1); // kind, index
      }
    }
    pos = start + size;
  }
  return names;
}

/** The wasm with each function import's field name replaced by `rename(module, field, index)`. */
function shortenImports(bytes, rename) {
  const readU32 = (pos) => readLeb128(bytes, pos);
  const u32 = (value) => {
    const out = [];
    do {
      let byte = value & 0x7f;
      value = Math.floor(value / 128);
      if (value) byte |= 0x80;
      out.push(byte);
    } while (value);
    return Buffer.from(out);
  };
  const readName = (pos) => {
    const [length, start] = readU32(pos);
    return [bytes.subarray(start, start + length).toString("utf8"), start + length];
  };
  const name = (text) => {
    const utf8 = Buffer.from(text, "utf8");
    return Buffer.concat([u32(utf8.length), utf8]);
  };
  const skipLimits = (pos) => {
    const flags = bytes[pos++];
    let [, next] = readU32(pos);
    if (flags & 1) [, next] = readU32(next);
    return next;
  };
  if (bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) throw new Error("not a wasm module");
  const parts = [bytes.subarray(0, 8)];
  let pos = 8;
  let renamed = 0;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = readU32(pos + 1);
    const end = start + size;
    if (id !== 2) {
      parts.push(bytes.subarray(pos, end));
      pos = end;
      continue;
    }
    let [count, at] = readU32(start);
    const entries = [u32(count)];
    for (let i = 0; i < count; i++) {
      const [module, afterModule] = readName(at);
      const [field, afterField] = readName(afterModule);
      const kind = bytes[afterField];
      let next = afterField + 1;
      if (kind === 0) [, next] = readU32(next); // function: type index
      else if (kind === 1) next = skipLimits(next + 1); // table: element type, limits
      else if (kind === 2) next = skipLimits(next); // memory: limits
      else if (kind === 3) next += 2; // global: value type, mutability
      else throw new Error(`import kind ${kind} not handled`);
      const newField = kind === 0 ? rename(module, field, renamed++) : field;
      entries.push(name(module), name(newField), bytes.subarray(afterField, next));
      at = next;
    }
    if (at !== end) throw new Error("import section not read to its end");
    const body = Buffer.concat(entries);
    parts.push(Buffer.from([2]), u32(body.length), body);
    pos = end;
  }
  return Buffer.concat(parts);
}
