// The browser API (index.js FaceProof) in headless Chromium: every method returns a Promise and
// never throws synchronously; bad arguments (bad create() options, frames that are no frames or
// whose bytes do not fit their sizes, an empty frame, wrong secrets, references, challenges,
// options) reject with a FaceproofError and its code, checked in the page; a bad wasmUrl is
// WASM_LOAD naming the URL; compare's NO_FACE names the image; the threshold is 0.4. Then a
// few thousand calls with random JS values of every type (tests/e2e/fuzz-values.js), after which
// template() still finds the face in obama.jpg; then terminate(): the pending call and every
// later call reject TERMINATED. The page side is tests/e2e/api-fuzz.js.
// Run by scripts/test.sh after scripts/build-pkg.sh: node tests/e2e/api-fuzz.mjs
//   (FUZZ_SEED=n replays a run, FUZZ_CALLS=n sets its length)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, CHROMIUM_FLAGS } from '../../scripts/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const verifier = require(path.join(root, 'pkg/verifier.cjs'));
// the sizes the page draws byte arrays around (the largest valid proof and reference)
const limits = typeof verifier.limits === 'function' ? verifier.limits() : { maxProofBytes: 461, maxReferenceBytes: 394164 };
const seed = Number(process.env.FUZZ_SEED || Math.floor(Math.random() * 2 ** 32));
const calls = Number(process.env.FUZZ_CALLS || 3000);

const server = await serve(root, 0);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
let failed = 0;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  // each check as it completes (the page prints them; a crash shows how far it got)
  page.on('console', (m) => { if (m.text().startsWith('check: ')) console.log(m.text().slice(7)); });
  await page.goto(`http://127.0.0.1:${server.address().port}/tests/e2e/api-fuzz.html`);
  await page.waitForFunction(() => window.__ready, null, { timeout: 60_000 });
  const t0 = Date.now();
  const results = await page.evaluate((o) => window.__run(o), { seed, calls, limits });
  failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length} checks in ${((Date.now() - t0) / 1000).toFixed(1)} s (seed ${seed})`);
} finally {
  await browser.close();
  server.close();
}
if (failed) {
  console.error(`${failed} check(s) failed`);
  process.exit(1);
}
console.log('ok   browser API: Promises only, arguments checked in the page with coded errors, engine intact after the fuzz, terminate() settles every call');
