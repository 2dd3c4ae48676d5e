// Cold start only, many page loads: `node bench/cold.mjs [--loads N] [--sdk] [--threads T] [/pkg/a.wasm /pkg/b.wasm ...]`
// An argument starting with '&' is the default build with that bench.js query added, e.g. '&simd=simd128'.
// Each load is a fresh browser context (empty cache) that stops at the first embedding
// (bench/index.html?cold=1). With several .wasm builds (same JS glue, paths served from the repo
// root; single-thread only) the loads are interleaved, so that the machine's drift hits every build alike; without one,
// the build the worker picks (relaxed SIMD). Prints the median [min-max] of each phase.
// --sdk: through the npm package's API (`FaceProof.create()` in its worker, then `embed(frame)`);
// the arguments are then package directories (/pkg, /target/pkg-old) instead of .wasm builds.
// --threads T: the threads build on T threads in a Worker (as js/worker.js runs it).
// CHROMIUM_EXTRA_FLAGS="--js-flags=..." passes V8 flags (diagnosis only).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, CHROMIUM_FLAGS } from '../scripts/static-server.mjs';

const argv = process.argv.slice(2);
const li = argv.indexOf('--loads');
const LOADS = li >= 0 ? Number(argv.splice(li, 2)[1]) : 10;
const ti = argv.indexOf('--threads');
const THREADS = ti >= 0 ? Number(argv.splice(ti, 2)[1]) : 1;
const si = argv.indexOf('--sdk');
const SDK = si >= 0 && argv.splice(si, 1).length > 0;
const builds = argv.length ? argv : [''];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = await serve(root);
const extra = (process.env.CHROMIUM_EXTRA_FLAGS || '').split(' ').filter(Boolean);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...CHROMIUM_FLAGS, ...extra] });
const results = Object.fromEntries(builds.map((b) => [b, []]));
try {
  for (let i = 0; i < LOADS; i++) {
    for (const b of builds) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const q = (b ? (b.startsWith('&') ? b : SDK ? `&pkg=${encodeURIComponent(b)}` : `&wasm=${encodeURIComponent(b)}`) : '') + (THREADS > 1 ? `&threads=${THREADS}` : '') + (SDK ? '&sdk=1' : '');
      await page.goto(`http://127.0.0.1:${server.address().port}/bench/index.html?cold=1${q}`);
      await page.waitForFunction(() => window.__bench, null, { timeout: 120_000 });
      const r = await page.evaluate(() => window.__bench);
      await context.close();
      if (!r.ok) throw new Error(r.error);
      results[b].push(r.faceproof.coldStart);
    }
  }
} finally {
  await browser.close();
  server.close();
}
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
for (const b of builds) {
  const rs = results[b];
  const cell = (k) => {
    const v = rs.map((r) => r[k]);
    return `${k} ${median(v).toFixed(0)} [${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)}]`;
  };
  const keys = ['totalMs', 'pageMs', ...Object.keys(rs[0]).filter((k) => k !== 'totalMs' && k !== 'pageMs')];
  console.log(`${SDK ? 'FaceProof API: ' : ''}${b || (THREADS > 1 ? `threads build, ${THREADS} threads` : 'default build')} (${rs.length} loads): ${keys.map(cell).join(', ')}`);
}
