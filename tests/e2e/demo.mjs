// End-to-end test of the demo in headless Chromium with a fake camera made from real photos:
// onboard and enroll as obama (with an ID-card comparison), log in as obama (accepted), log in as biden on
// obama's device (rejected), replay obama's proof (rejected). A network audit records every
// request and response and checks that only the protocol's fields leave the page.
// Screenshots of each step: test-results/e2e/*.png.
//
// Run by scripts/test.sh (needs pkg/ built and the server binary): node tests/e2e/demo.mjs
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../../scripts/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(root, 'test-results/e2e');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceproof-e2e-'));
const video = path.join(tmp, 'camera.y4m');
const portraits = path.join(root, 'tests/data/portraits');
fs.mkdirSync(out, { recursive: true });

const fakeCamera = (args) => execFileSync(path.join(root, 'target/release/examples/fake_camera'), args, { stdio: 'inherit' });
const POSE = { turnLeft: 'left', turnRight: 'right', comeCloser: 'closer', lookStraight: 'straight' };
/** A video performing `prompts` (with straight frames between), then holding straight. */
function writeVideo(person, turned, prompts) {
  const poses = ['straight', 'straight'];
  for (const p of prompts) poses.push(POSE[p], 'straight');
  poses.push('straight', 'straight', 'straight');
  fakeCamera(['video', video, path.join(portraits, person), path.join(portraits, turned), poses.join(',')]);
}

// the relying party, with a fresh database
const port = 18000 + Math.floor(Math.random() * 1000);
const db = path.join(tmp, 'rp.sqlite');
const server = spawn(path.join(root, 'target/release/faceproof-server'), ['--port', String(port), '--db', db, '--www', path.join(root, 'www'), '--pkg', path.join(root, 'pkg')], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => { if (String(d).includes('faceproof demo on')) resolve(); });
  server.on('exit', (c) => reject(new Error(`server exited ${c}`)));
});
const origin = `http://localhost:${port}`;

writeVideo('obama.jpg', 'obama2.jpg', []);
fakeCamera(['card', path.join(tmp, 'id-card.png'), path.join(portraits, 'obama.jpg')]);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [...CHROMIUM_FLAGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
});
const context = await browser.newContext({ viewport: { width: 420, height: 900 } }); // phone-sized
const audit = [];
let failures = 0;

async function openPage() {
  const page = await context.newPage();
  page.on('request', (r) => audit.push({ kind: 'request', url: r.url(), method: r.method(), body: r.postDataBuffer() }));
  page.on('response', async (r) => {
    const entry = { kind: 'response', url: r.url(), status: r.status(), type: r.headers()['content-type'] || '' };
    if (r.url().includes('/api/')) entry.body = await r.body().catch(() => null);
    audit.push(entry);
  });
  page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
  await page.goto(origin);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 });
  // Chromium has relaxed SIMD: the worker must have picked the module built for it
  assert.equal(await page.getAttribute('body', 'data-simd'), 'relaxed');
  return page;
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

const resultText = (page) => page.locator('#result').innerText();

async function login(page, user, person, turned) {
  await page.click('#tab-login');
  await page.fill('#username', user);
  await page.click('#login-start');
  await page.waitForSelector('#challenge-info[data-prompts]');
  const prompts = (await page.getAttribute('#challenge-info', 'data-prompts')).split(',');
  writeVideo(person, turned, prompts.filter((p) => p !== 'lookStraight'));
  await page.click('#start-camera'); // the camera opens the video written for these prompts
  await page.waitForFunction(() => /Logged in|Rejected/.test(document.querySelector('#result').innerText), null, { timeout: 60_000 });
  return prompts;
}

let page;
await step('onboarding: quality feedback, ID photo comparison, enrollment as obama', async () => {
  page = await openPage();
  await page.screenshot({ path: path.join(out, '1-loaded.png'), fullPage: true });
  await page.fill('#username', 'obama');
  await page.click('#start-camera');
  await page.waitForSelector('#quality li.ok', { timeout: 30_000 });
  await page.screenshot({ path: path.join(out, '2-camera-good-frame.png'), fullPage: true });
  await page.setInputFiles('#id-photo', path.join(tmp, 'id-card.png'));
  await page.waitForFunction(() => /person/.test(document.querySelector('#compare-result').innerText), null, { timeout: 30_000 });
  assert.match(await page.locator('#compare-result').innerText(), /^Same person/);
  assert.match(await page.locator('#photo-timings').innerText(), /detect [\d.]+ ms.*embed [\d.]+ ms/);
  await page.screenshot({ path: path.join(out, '3-id-photo-compared.png'), fullPage: true });
  await page.waitForSelector('#enroll:not([disabled])');
  await page.click('#enroll');
  await page.waitForFunction(() => /Enrolled|refused|failed|Could not/.test(document.querySelector('#result').innerText), null, { timeout: 60_000 });
  assert.match(await resultText(page), /^Enrolled as obama/);
  await page.screenshot({ path: path.join(out, '4-enrolled.png'), fullPage: true });
  await page.close();
});

await step('login as obama with the prompted movements: accepted', async () => {
  page = await openPage();
  const prompts = await login(page, 'obama', 'obama.jpg', 'obama2.jpg');
  await page.screenshot({ path: path.join(out, '5-login-obama.png'), fullPage: true });
  assert.match(await resultText(page), /^Logged in as obama/, `prompts ${prompts}; ${await page.locator('#status').innerText()}`);
  const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
  assert.equal(me.user, 'obama');
});

await step('replayed proof: rejected', async () => {
  const sent = audit.filter((a) => a.kind === 'request' && a.url.endsWith('/api/login')).pop();
  const res = await page.evaluate((body) => fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => ({ status: r.status, body: await r.json() })), sent.body.toString());
  assert.equal(res.status, 401);
  assert.equal(res.body.error, 'NONCE_REUSED_OR_UNKNOWN');
  await page.close();
});

await step('biden on obama\'s device: rejected, and no proof leaves the page', async () => {
  // Only straight photos of Biden exist, so his attempt fails the prompted turns; the page
  // stops there and sends nothing (another face failing to open the key, FACE_MISMATCH, is
  // tested in tests/web.rs and tests/protect_faces.rs).
  const loginsBefore = audit.filter((a) => a.kind === 'request' && a.url.endsWith('/api/login')).length;
  page = await openPage();
  await login(page, 'obama', 'biden.jpg', 'biden.jpg');
  await page.screenshot({ path: path.join(out, '6-login-biden-rejected.png'), fullPage: true });
  assert.match(await resultText(page), /^Rejected: .*(LIVENESS_FAILED|FACE_MISMATCH)/);
  const loginsAfter = audit.filter((a) => a.kind === 'request' && a.url.endsWith('/api/login')).length;
  assert.equal(loginsAfter, loginsBefore, 'no login request for the rejected attempt');
  await page.close();
});

await step('network audit: only the protocol\'s fields leave the page', async () => {
  const requests = audit.filter((a) => a.kind === 'request');
  assert.ok(requests.length > 0);
  const allowedStatic = /\.(html|js|css|wasm|onnx|ico)$|\/$/;
  const fields = {
    '/api/onboard': ['username'], '/api/enroll': ['enrollmentToken', 'publicKey', 'reference', 'username'],
    '/api/challenge': ['username'], '/api/login': ['proof', 'username'],
    // the server's share of the locks: blinded points only (uniformly random group elements)
    '/api/enroll/evaluate': ['blinded', 'enrollmentToken', 'username'], '/api/evaluate': ['blinded', 'nonce', 'username'],
  };
  for (const r of requests) {
    const u = new URL(r.url);
    assert.equal(u.origin, origin, `request to another origin: ${r.url}`);
    if (!u.pathname.startsWith('/api/')) {
      assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
      assert.match(u.pathname, allowedStatic, `unexpected static request ${u.pathname}`);
      continue;
    }
    if (r.method === 'GET') { assert.ok(!r.body, `GET with a body: ${r.url}`); continue; }
    const body = r.body ? r.body.toString() : '';
    const json = JSON.parse(body);
    assert.deepEqual(Object.keys(json).sort(), fields[u.pathname] || [], `fields of ${u.pathname}`);
    assert.match(json.username, /^[a-z0-9_.-]{3,32}$/);
    if (json.enrollmentToken) assert.match(json.enrollmentToken, /^[0-9a-f]{64}$/);
    if (json.publicKey) assert.match(json.publicKey, /^[0-9a-f]{64}$/);
    if (json.reference) {
      const ref = Buffer.from(json.reference, 'base64');
      assert.equal(ref.subarray(0, 4).toString(), 'FPRF', 'reference is the sealed format');
    }
    if (json.blinded) {
      const blinded = Buffer.from(json.blinded, 'base64');
      assert.ok(blinded.length > 0 && blinded.length % 32 === 0, 'blinded elements are 32-byte points');
    }
    if (json.proof) {
      const proof = Buffer.from(json.proof, 'base64');
      assert.equal(proof.subarray(0, 4).toString(), 'FPPF');
      assert.equal(proof.length, 6 + proof[5] + 200, 'proof has exactly the documented fields');
    }
    // no image, landmark or embedding bytes: no image magic numbers (raw, as a data URL, or
    // base64 at the start of a JSON string; not 'RIFF' anywhere, which four random base64
    // characters of the opaque reference can spell), no float arrays
    for (const magic of ['\xff\xd8\xff', '\x89PNG', 'data:image']) assert.ok(!body.includes(magic), `image data in ${u.pathname}`);
    assert.ok(!/RIFF[\s\S]{4}WEBP|"(\/9j\/|iVBORw0KGgo|UklGR)/.test(body), `image data in ${u.pathname}`);
    assert.ok(!/\[\s*-?\d+\.\d+\s*,/.test(body), `numeric array in ${u.pathname}`);
  }
  const responses = audit.filter((a) => a.kind === 'response' && a.url.includes('/api/challenge') && a.body);
  for (const r of responses) assert.deepEqual(Object.keys(JSON.parse(r.body.toString())).sort(), ['challenge', 'livenessRequired', 'reference']);
  fs.writeFileSync(path.join(out, 'network-audit.json'), JSON.stringify(audit.map((a) => ({ ...a, body: a.body ? `${a.body.length} bytes` : undefined })), null, 1));
  console.log(`     ${requests.length} requests audited (${requests.filter((r) => r.url.includes('/api/')).length} to the API)`);
});

await browser.close();
server.kill();
fs.rmSync(tmp, { recursive: true, force: true });
if (failures) {
  console.log(`${failures} end-to-end step(s) failed; screenshots in test-results/e2e/`);
  process.exit(1);
}
console.log('end-to-end: all steps passed; screenshots in test-results/e2e/');
