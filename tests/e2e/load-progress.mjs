// FaceProof.create({onProgress}) in headless Chromium: one {loaded, total} over everything
// create() downloads (the .wasm module and the models). `total` is the same in every report and
// equals the bytes of the .wasm and .onnx files the server sent during create(); `loaded` never
// decreases and the last report has loaded === total; the ID-photo detector fetched later by a
// call reports nothing. Checked with the package's files (sizes from the package), with the
// models and the .wasm at URLs passed in (sizes from Content-Length), with a model from another
// origin sent without Content-Length, and with the threads build (`threads: 2`).
// Run after scripts/build-pkg.sh: node tests/e2e/load-progress.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, CHROMIUM_FLAGS } from '../../scripts/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = path.join(root, 'pkg/models/facemesh_468.onnx');

// what the servers sent: the .wasm and .onnx files asked for, with their sizes
let sent = [];
const server = await serve(root, 0);
server.on('request', (req) => {
  const p = new URL(req.url, 'http://x').pathname;
  if (/\.(wasm|onnx)$/.test(p)) sent.push({ file: p, bytes: fs.statSync(path.join(root, decodeURIComponent(p))).size });
});
// another origin that sends a model in pieces with no Content-Length (chunked)
const other = http.createServer((req, res) => {
  const buf = fs.readFileSync(MODEL);
  sent.push({ file: `other:${req.url}`, bytes: buf.length });
  res.writeHead(200, {
    'content-type': 'application/octet-stream', 'access-control-allow-origin': '*',
    'cross-origin-resource-policy': 'cross-origin', 'cache-control': 'no-store',
  });
  res.write(buf.subarray(0, buf.length >> 1));
  setTimeout(() => res.end(buf.subarray(buf.length >> 1)), 50);
});
await new Promise((r) => other.listen(0, '127.0.0.1', r));

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
const origin = `http://127.0.0.1:${server.address().port}`;
const cases = [
  ['the package\'s files', {}],
  ['models and .wasm at URLs passed in', {
    models: { 'facemesh_468.onnx': `${origin}/pkg/models/facemesh_468.onnx?custom`, 'mobilefacenet_192.onnx': '/pkg/models/mobilefacenet_192.onnx' },
    wasmUrl: '/pkg/faceproof_wasm_bg.wasm',
  }],
  ['a model from another origin without Content-Length', {
    models: { 'facemesh_468.onnx': `http://127.0.0.1:${other.address().port}/facemesh_468.onnx` },
  }],
  ['the threads build (threads: 2)', { threads: 2 }],
];
const t0 = Date.now();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${origin}/tests/e2e/load-progress.html`);
  await page.waitForFunction(() => window.__ready, null, { timeout: 60_000 });
  for (const [label, options] of cases) {
    sent = [];
    const { events, afterCreate, timings } = await page.evaluate((o) => window.__create(o), options);
    const during = sent.slice(); // requests up to create()'s end ... and the detector's after it
    const msg = `${label}: ${JSON.stringify(events.slice(0, 3))} … ${JSON.stringify(events.slice(-2))}`;
    assert.ok(afterCreate >= 1, `${label}: no progress reported`);
    assert.equal(events.length, afterCreate, `${label}: the ID-photo detector's download reported progress after create()`);
    const total = events[0].total;
    for (const [i, e] of events.entries()) {
      assert.equal(e.total, total, `${label}: report ${i} changes the total: ${msg}`);
      assert.ok(Number.isInteger(e.loaded) && e.loaded >= 0 && e.loaded <= total, `${label}: report ${i}: ${msg}`);
      if (i) assert.ok(e.loaded >= events[i - 1].loaded, `${label}: loaded decreases at report ${i}: ${msg}`);
      assert.equal(typeof e.file, 'string');
    }
    assert.equal(events.at(-1).loaded, total, `${label}: the last report is not complete: ${msg}`);
    // with sizes known up front, progress shows before the end (the file without a size is read whole first)
    if (!label.includes('without Content-Length')) assert.ok(events[0].loaded < total, `${label}: nothing reported before the end: ${msg}`);
    assert.ok(total > 2 * 2 ** 20, `${label}: total ${total} bytes, not over 2 MB`);
    // the bytes create() asked for: every .wasm and .onnx request but the ID-photo detector's, fetched after it
    const fetched = during.filter((s) => !s.file.endsWith('blazeface_back_256.onnx'));
    assert.ok(fetched.some((s) => s.file.endsWith('.wasm')), `${label}: no .wasm fetched: ${JSON.stringify(during)}`);
    assert.equal(total, fetched.reduce((n, s) => n + s.bytes, 0), `${label}: total is not the bytes fetched: ${JSON.stringify(fetched)}`);
    if (options.threads) assert.equal(timings.threads, 2, 'the threads build was not used');
    console.log(`  ${label}: ${events.length} reports, total ${total} bytes (${fetched.length} files, simd ${timings.simd}, ${timings.threads} thread(s))`);
  }
} finally {
  await browser.close();
  server.close();
  other.close();
}
console.log(`ok   create() progress: one monotonic {loaded, total} over the .wasm and the models, total known from the first report, ends at loaded === total (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
