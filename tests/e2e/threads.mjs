// The threads build through the package API (index.js -> worker.js -> threads/), in headless
// Chromium: on a cross-origin isolated page `FaceProof.create({threads: 2})` runs on 2 threads
// and gives the one-thread results on real faces; without isolation it falls back to one thread.
// Run by scripts/test.sh (needs pkg/ built): node tests/e2e/threads.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, CHROMIUM_FLAGS } from '../../scripts/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });

async function results(isolated) {
  const server = await serve(root, 0, { isolated });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('404')) console.error('page:', m.text()); }); // 404: favicon
    await page.goto(`http://127.0.0.1:${server.address().port}/tests/e2e/threads.html`);
    await page.waitForFunction(() => window.__result, null, { timeout: 180_000 });
    const r = await page.evaluate(() => window.__result);
    assert.ok(!r.error, r.error);
    return r;
  } finally {
    server.close();
  }
}

const maxDiff = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
try {
  const iso = await results(true);
  assert.equal(iso.isolated, true);
  assert.equal(iso.one.threads, 1);
  assert.equal(iso.two.threads, 2, 'threads build not used on an isolated page');
  assert.equal(iso.two.embedding.length, 192);
  // the face and its mirror run as two batch-1 runs instead of one batch-2 run: same sums
  const d = maxDiff(iso.one.embedding, iso.two.embedding);
  assert.ok(d < 1e-5, `embeddings differ by ${d}`);
  assert.ok(Math.abs(iso.one.samePerson - iso.two.samePerson) < 1e-5 && Math.abs(iso.one.otherPerson - iso.two.otherPerson) < 1e-5);
  assert.ok(iso.two.samePerson > 0.5 && iso.two.otherPerson < 0.3, JSON.stringify([iso.two.samePerson, iso.two.otherPerson]));

  const plain = await results(false);
  assert.equal(plain.isolated, false);
  assert.equal(plain.two.threads, 1, 'no shared memory without isolation: one thread');
  assert.ok(maxDiff(plain.one.embedding, plain.two.embedding) === 0);
  console.log(`threads: isolated page runs on ${iso.two.threads} threads (embedding max diff ${d.toExponential(1)}, same person ${iso.two.samePerson.toFixed(4)}, other ${iso.two.otherPerson.toFixed(4)}); without isolation ${plain.two.threads} thread`);
} finally {
  await browser.close();
}
