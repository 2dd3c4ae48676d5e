// The npm package in a fresh Vite app, with no bundler configuration: `npm pack` the built
// pkg/, install the tarball into a new app, `vite build`, serve dist/ and check in headless
// Chromium that the page loads the models (worker + wasm + ONNX assets emitted by Vite) and
// computes an embedding; `create()` reports one {loaded, total} whose total is the bytes of the
// .wasm and model assets it fetched; `create()` fetches only the three models verification needs, and the
// ID-photo detector is fetched once, on the first `compare`. Run by scripts/test.sh: node tests/e2e/vite.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, CHROMIUM_FLAGS } from '../../scripts/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const app = fs.mkdtempSync(path.join(os.tmpdir(), 'faceproof-vite-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

const tarball = run('npm', ['pack', path.join(root, 'pkg'), '--pack-destination', app, '--silent'], app).trim().split('\n').pop();
fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module', scripts: { build: 'vite build' } }, null, 1));
fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html><title>loading</title><script type="module" src="/main.js"></script>');
fs.writeFileSync(path.join(app, 'main.js'), `
import { FaceProof } from 'faceproof';
const progress = [];
const fp = await FaceProof.create({ onProgress: ({ loaded, total }) => progress.push([loaded, total]) });
window.__progress = progress;
async function frame(src) {
  const img = new Image();
  img.src = src;
  await img.decode();
  const c = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
  c.getContext('2d').drawImage(img, 0, 0);
  return c.getContext('2d').getImageData(0, 0, c.width, c.height);
}
const obama = await frame('/obama.jpg');
const e = await fp.embed(obama);
document.title = 'embedding:' + e.length + ':' + Math.hypot(...e).toFixed(4) + ':' + fp.timings.simd;
await new Promise((resolve) => { window.__compare = resolve; });
const obama2 = await frame('/obama2.jpg');
const [a, b] = await Promise.all([fp.compare(obama, obama2), fp.compare(obama2, obama)]);
document.title = 'compare:' + a.samePerson + ':' + b.samePerson;
`);
fs.mkdirSync(path.join(app, 'public'));
for (const f of ['obama.jpg', 'obama2.jpg']) fs.copyFileSync(path.join(root, 'tests/data/portraits', f), path.join(app, 'public', f));
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', path.join(app, tarball), 'vite@7'], app);
run('npx', ['vite', 'build', '--logLevel', 'warn'], app);
const assets = fs.readdirSync(path.join(app, 'dist/assets'));
console.log(`vite build: ${assets.length} assets (${assets.filter((a) => a.endsWith('.onnx')).length} models, ${assets.filter((a) => a.endsWith('.wasm')).length} wasm)`);

const server = await serve(path.join(app, 'dist'));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  const models = []; // model files fetched (the worker's requests included), in order
  const wasms = []; // .wasm files fetched
  page.on('request', (r) => {
    if (r.url().endsWith('.onnx')) models.push(path.basename(new URL(r.url()).pathname));
    if (r.url().endsWith('.wasm')) wasms.push(path.basename(new URL(r.url()).pathname));
  });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.title.startsWith('embedding:'), null, { timeout: 120_000 });
  const title = await page.title();
  assert.equal(title, 'embedding:192:1.0000:relaxed'); // the relaxed-SIMD module was bundled and chosen
  console.log(`ok   a fresh Vite app installs the packed tarball, builds without config and embeds a face (${title})`);
  const stem = (f) => f.replace(/-[\w-]{8}\.onnx$/, '').replace(/\.onnx$/, ''); // Vite adds a content hash
  assert.deepEqual(models.map(stem).sort(), ['antispoof_2.7_80', 'antispoof_4.0_80', 'blazeface_front_128', 'facemesh_468', 'mobilefacenet_192']);
  // create()'s progress: total known from the first report (the bytes of the assets it fetched), loaded up to it
  const progress = await page.evaluate(() => window.__progress);
  const bytes = [...wasms, ...models].reduce((n, f) => n + fs.statSync(path.join(app, 'dist/assets', f)).size, 0);
  assert.ok(progress.length && progress.every(([l, t], i) => t === bytes && l <= t && (!i || l >= progress[i - 1][0])), JSON.stringify([bytes, progress]));
  assert.equal(progress.at(-1)[0], bytes);
  await page.evaluate(() => window.__compare());
  await page.waitForFunction(() => document.title.startsWith('compare:'), null, { timeout: 120_000 });
  assert.equal(await page.title(), 'compare:true:true');
  assert.deepEqual(models.slice(5).map(stem), ['blazeface_back_256']); // once, though two calls needed it
  console.log(`ok   create() fetched 5 models; two concurrent compare() calls fetched the ID-photo detector once (${models.length} model requests)`);
} finally {
  await browser.close();
  server.close();
  fs.rmSync(app, { recursive: true, force: true });
}
