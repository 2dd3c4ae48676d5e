// Where the browser spends its time: V8's sampling profiler (CDP), self time per wasm function.
//   node bench/profile.mjs [WASM_URL] [TOP]          50 template() calls once warm (bench/ab.html);
//                                                    CALL=analyze profiles analyze() calls instead
//   node bench/profile.mjs --cold [WASM_URL] [TOP]   the cold start: navigation to the first embedding
//                                                    (bench/index.html, WASM_URL served as the relaxed build)
// Needs a build that keeps function names (no wasm-opt):
//   CARGO_TARGET_DIR=target/relaxed-simd RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
//     wasm-pack build --release --no-opt --target web --out-dir target/pkg-prof --out-name faceproof_wasm --no-pack \
//     -- --no-default-features --features inference && cp target/pkg-prof/faceproof_wasm_bg.wasm pkg/prof_bg.wasm
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { serve, CHROMIUM_FLAGS } from '../scripts/static-server.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const cold = args[0] === '--cold';
if (cold) args.shift();
const wasmUrl = args[0] || '/pkg/prof_bg.wasm';
const top = Number(args[1] || 30);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = await serve(root);
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });

/** Self ms per function name over the samples of the first `untilMs` (all if undefined). */
function selfTimes(profile, untilMs) {
  const dt = new Map();
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] / 1000;
    if (untilMs !== undefined && t > untilMs) break;
    dt.set(profile.samples[i], (dt.get(profile.samples[i]) || 0) + profile.timeDeltas[i] / 1000);
  }
  const byName = new Map();
  for (const n of profile.nodes) {
    const name = n.callFrame.functionName || `(${n.callFrame.url.split('/').pop() || 'program'})`;
    byName.set(name, (byName.get(name) || 0) + (dt.get(n.id) || 0));
  }
  return [...byName].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1]);
}

const relaxed = path.join(root, 'pkg/faceproof_wasm_relaxed_bg.wasm');
const saved = cold ? fs.readFileSync(relaxed) : null;
try {
  const page = await browser.newPage();
  if (cold) {
    // same origin first, so the renderer (and the profiler) survive the navigation
    fs.copyFileSync(path.join(root, wasmUrl), relaxed);
    await page.goto(`${base}/bench/results/stages.svg`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    await page.goto(`${base}/bench/index.html?runs=1`);
    await page.waitForFunction(() => window.__bench, null, { timeout: 600_000 });
    const { profile } = await cdp.send('Profiler.stop');
    const r = await page.evaluate(() => window.__bench);
    if (!r.ok) throw new Error(r.error);
    if (process.env.PROFILE_JSON) fs.writeFileSync(process.env.PROFILE_JSON, JSON.stringify(profile));
    const cs = r.faceproof.coldStart;
    console.log(`cold start ${cs.totalMs.toFixed(0)} ms (wasm ${cs.wasmMs.toFixed(0)}, model load ${cs.loadModelsMs.toFixed(0)}, first embedding ${cs.firstEmbeddingMs.toFixed(0)}); self time up to the first embedding:`);
    for (const [n, ms] of selfTimes(profile, cs.totalMs + 50).slice(0, top)) console.log(`${ms.toFixed(1).padStart(7)} ms  ${n.slice(0, 140)}`);
  } else {
    await page.goto(`${base}/bench/ab.html?a=${encodeURIComponent(wasmUrl)}&b=${encodeURIComponent(wasmUrl)}&rounds=0${process.env.CALL ? `&call=${process.env.CALL}` : ''}`);
    await page.waitForFunction(() => window.__ab, null, { timeout: 600_000 });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    await page.evaluate(() => window.__profileRuns(50));
    const { profile } = await cdp.send('Profiler.stop');
    if (process.env.PROFILE_JSON) fs.writeFileSync(process.env.PROFILE_JSON, JSON.stringify(profile));
    const rows = selfTimes(profile);
    const total = rows.filter(([n]) => n !== '(program)').reduce((s, [, ms]) => s + ms, 0);
    console.log(`self time over 50 template() calls: ${total.toFixed(0)} ms sampled`);
    for (const [n, ms] of rows.slice(0, top)) console.log(`${(100 * ms / total).toFixed(1).padStart(5)} %  ${(ms / 50).toFixed(2).padStart(6)} ms/call  ${n.slice(0, 140)}`);
  }
} finally {
  if (saved) fs.writeFileSync(relaxed, saved);
  await browser.close();
  server.close();
}
