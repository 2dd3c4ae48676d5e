// Where the browser spends a template() call: V8's sampling profiler (CDP) over 50 calls, self time
// per wasm function. Needs a build that keeps function names (no wasm-opt):
//   CARGO_TARGET_DIR=target/relaxed-simd RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
//     wasm-pack build --release --no-opt --target web --out-dir target/pkg-prof --out-name faceproof_wasm --no-pack \
//     -- --no-default-features --features inference && cp target/pkg-prof/faceproof_wasm_bg.wasm pkg/prof_bg.wasm
//   node bench/profile.mjs [/pkg/prof_bg.wasm] [top N]
import { chromium } from 'playwright-core';
import { serve, CHROMIUM_FLAGS } from '../scripts/static-server.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const wasmUrl = process.argv[2] || '/pkg/prof_bg.wasm';
const top = Number(process.argv[3] || 30);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = await serve(root);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/bench/ab.html?a=${encodeURIComponent(wasmUrl)}&b=${encodeURIComponent(wasmUrl)}&rounds=0`);
  await page.waitForFunction(() => window.__ab, null, { timeout: 600_000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
  await page.evaluate(() => window.__profileRuns(50));
  const { profile } = await cdp.send('Profiler.stop');
  const dt = new Map(); // node id -> sampled ms
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) || 0) + profile.timeDeltas[i] / 1000);
  const byName = new Map();
  let total = 0;
  for (const n of profile.nodes) {
    const ms = dt.get(n.id) || 0;
    const name = n.callFrame.functionName || `(${n.callFrame.url.split('/').pop() || 'program'})`;
    byName.set(name, (byName.get(name) || 0) + ms);
    if (name !== '(idle)' && name !== '(program)') total += ms;
  }
  const rows = [...byName].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`self time over 50 template() calls: ${total.toFixed(0)} ms sampled`);
  for (const [n, ms] of rows) console.log(`${(100 * ms / total).toFixed(1).padStart(5)} %  ${(ms / 50).toFixed(2).padStart(6)} ms/call  ${n.slice(0, 140)}`);
} finally {
  await browser.close();
  server.close();
}
