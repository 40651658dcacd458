#!/usr/bin/env node
// Compresses the site's static files once, at build time, so the server sends
// them compressed without spending CPU per request (tower-http's ServeDir
// answers `x.wasm` from `x.wasm.br` or `x.wasm.gz` when the browser accepts it).
// Brotli at its maximum quality (11, 16 MB window) and gzip -9, with Node's
// own zlib: no tool to install beyond the Node.js the build already needs.
// Usage: node scripts/precompress.mjs [site-root]   (default target/site)
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { readdirSync, readFileSync, writeFileSync, statSync, rmSync, existsSync } from 'node:fs';
import { join, extname } from 'node:path';

const root = process.argv[2] ?? 'target/site';
const compressible = new Set(['.wasm', '.js', '.mjs', '.css', '.html', '.svg', '.json', '.txt', '.map']);
// Below this, the headers cost more than compression saves.
const minBytes = 1024;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

let before = 0;
let brotli = 0;
let gzip = 0;
for (const path of files(root)) {
  // A sibling whose original is gone (an older hashed name): remove it.
  if (path.endsWith('.br') || path.endsWith('.gz')) {
    if (!existsSync(path.slice(0, -3))) rmSync(path);
    continue;
  }
  if (!compressible.has(extname(path)) || statSync(path).size < minBytes) continue;
  const data = readFileSync(path);
  const br = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      [constants.BROTLI_PARAM_MODE]:
        extname(path) === '.wasm' ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  });
  const gz = gzipSync(data, { level: 9 });
  // Only smaller siblings: ServeDir would otherwise send the larger one.
  for (const [suffix, packed] of [['.br', br], ['.gz', gz]]) {
    if (packed.length < data.length) writeFileSync(path + suffix, packed);
    else if (existsSync(path + suffix)) rmSync(path + suffix);
  }
  before += data.length;
  brotli += Math.min(br.length, data.length);
  gzip += Math.min(gz.length, data.length);
  console.log(`${path}: ${data.length} B, brotli ${br.length} B, gzip ${gz.length} B`);
}
console.log(`precompressed ${root}: ${before} B -> brotli ${brotli} B, gzip ${gzip} B`);
