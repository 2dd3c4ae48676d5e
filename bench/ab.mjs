// A/B of two builds of the module in one page, rounds interleaved so that machine drift hits both:
//   node bench/ab.mjs /pkg/a_bg.wasm /pkg/b_bg.wasm     (paths served from the repo root; same JS glue)
// Prints the median detect / landmarks / embed ms of each over 100 templates, and of the whole
// template() call (wall clock: the stages + the frame's copy into wasm and its wipe).
//   node bench/ab.mjs --threads 2 /pkg/threads /pkg/threads_b   two threads builds (package
// directories, e.g. copies of pkg/threads/), each in its Worker on N threads (bench/ab-threads.html)
import { chromium } from 'playwright-core';
import { serve, CHROMIUM_FLAGS } from '../scripts/static-server.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const ti = argv.indexOf('--threads');
const THREADS = ti >= 0 ? Number(argv.splice(ti, 2)[1]) : 0;
const [a, b] = argv;
if (!a || !b) throw new Error('usage: node bench/ab.mjs /pkg/a.wasm /pkg/b.wasm | --threads N /pkg/threads_a /pkg/threads_b');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = await serve(root);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
try {
  const page = await browser.newPage();
  const query = `a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
  const url = THREADS ? `/bench/ab-threads.html?threads=${THREADS}&${query}` : `/bench/ab.html?${query}`;
  await page.goto(`http://127.0.0.1:${server.address().port}${url}`);
  await page.waitForFunction(() => window.__ab, null, { timeout: 600_000 });
  const r = await page.evaluate(() => window.__ab);
  for (const [stage, [ma, mb]] of Object.entries(r)) console.log(`${stage.padEnd(10)} A ${ma.toFixed(1)} ms   B ${mb.toFixed(1)} ms`);
} finally {
  await browser.close();
  server.close();
}
