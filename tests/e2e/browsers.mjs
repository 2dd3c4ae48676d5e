// The package in every browser a user arrives with: Chromium, Firefox (ESR) and WebKit (the
// WebKitGTK MiniBrowser under a virtual display), each opening tests/e2e/browsers.html with no
// driver; the page posts its results here. In each: the embeddings of three portraits equal the
// native pipeline's (tests/data/native_embeddings.json, shipped models), compare() decides both
// pairs, an enrollment and a login through an OPRF evaluation verify, and another face is
// FACE_MISMATCH. Prints template() medians side by side.
// Run by scripts/test.sh after scripts/build-pkg.sh: node tests/e2e/browsers.mjs [chromium firefox webkit]
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_FLAGS } from '../../scripts/static-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const native = JSON.parse(fs.readFileSync(path.join(root, 'tests/data/native_embeddings.json'), 'utf8')).shipped;
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.jpg': 'image/jpeg', '.json': 'application/json' };
const WEBKIT = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

const BROWSERS = {
  chromium: (url, dir) => ['chromium', ['--headless', ...CHROMIUM_FLAGS, `--user-data-dir=${dir}`, url]],
  firefox: (url, dir) => ['firefox-esr', ['--headless', '--no-remote', '--new-instance', '--profile', dir, url]],
  webkit: (url) => ['xvfb-run', ['-a', WEBKIT, url]],
};

let pending = null; // the browser whose result is awaited: {resolve}
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'POST' && url.pathname === '/result') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => { res.end('ok'); pending?.resolve(JSON.parse(body)); });
    return;
  }
  const file = path.join(root, decodeURIComponent(url.pathname));
  if (!file.startsWith(root)) return res.writeHead(403).end();
  fs.readFile(file, (e, buf) => {
    if (e) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(buf);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/tests/e2e/browsers.html`;

async function runIn(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `faceproof-${name}-`));
  const [cmd, args] = BROWSERS[name](url, dir);
  const result = new Promise((resolve) => (pending = { resolve }));
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-2000)));
  const exited = new Promise((r) => child.on('exit', (code) => r({ exited: code })));
  const timeout = new Promise((r) => setTimeout(() => r({ timeout: true }), 240_000).unref()); // does not keep Node alive
  const r = await Promise.race([result, exited, timeout]);
  try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.exited !== undefined || r.timeout) throw new Error(`${name}: no result (${r.timeout ? 'timed out' : `exited ${r.exited}`}): ${stderr}`);
  return r;
}

const cosine = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(BROWSERS);
const rows = [];
let failed = 0;
for (const name of names) {
  try {
    const r = await runIn(name);
    if (r.error) throw new Error(`${name}: ${r.error}`);
    for (const [img, emb] of Object.entries(r.embeddings)) {
      const want = native[img].embedding;
      const d = Math.max(...emb.map((x, i) => Math.abs(x - want[i])));
      assert.ok(d <= 2e-2 && cosine(emb, want) >= 0.9995, `${name} ${img}: max |browser - native| ${d}, cosine ${cosine(emb, want)}`);
    }
    assert.ok(r.compare.same > 0.4 && r.compare.other < 0.4, `${name} compare: ${JSON.stringify(r.compare)}`);
    assert.equal(r.steps.sameFaceLogsIn, true, `${name}: obama2 logs in against obama's enrollment`);
    assert.equal(r.steps.otherFace, 'FACE_MISMATCH', `${name}: biden against obama's enrollment`);
    rows.push({ name, ms: r.templateMs, simd: r.simd, agent: r.userAgent });
    console.log(`ok   ${name}: native embeddings, compare, enroll + login through the OPRF, another face refused (${r.simd} SIMD; template() ${r.templateMs.toFixed(1)} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${e.message}`);
  }
}
const base = rows.find((r) => r.name === 'chromium');
for (const r of rows) console.log(`     ${r.name.padEnd(9)} template() median ${r.ms.toFixed(1)} ms${base ? `, ${(r.ms / base.ms).toFixed(2)}x Chromium` : ''}  (${r.agent})`);
server.closeAllConnections();
server.close();
if (failed) console.log(`${failed} browser(s) failed`);
process.exit(failed ? 1 : 0);
