// The benchmark command: `scripts/bench.sh` (builds pkg/ first), or `node bench/run.mjs [--runs N] [--repeat R] [--simd simd128] [--threads T]`.
// --threads T (default 1 = skip): R more runs with both engines on T threads; needs the threads
// build (`scripts/build-pkg.sh` makes it, in pkg/threads/).
// Runs bench/index.html in headless Chromium R times (fresh profile each: empty cache), prints
// per-stage median/p95 for faceproof and onnxruntime-web, cold start, download sizes and wasm
// memory, and the machine's wasm SIMD peak before each run (bench/simd-peak.mjs: a shared VM
// slowed by its neighbours shows there); writes bench/results/latest.json and
// bench/results/stages.svg.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve, CHROMIUM_FLAGS } from '../scripts/static-server.mjs';
import { simdPeak } from './simd-peak.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const RUNS = Number(arg('runs', 50));
const REPEAT = Number(arg('repeat', 3));
const THREADS = Number(arg('threads', 1));
if (THREADS > 1 && !fs.existsSync(path.join(root, 'pkg/threads/faceproof_wasm_bg.wasm'))) throw new Error('--threads needs pkg/threads/ (scripts/build-pkg.sh)');

function sizes(files) {
  const out = {};
  let raw = 0, gz = 0, br = 0;
  for (const f of files) {
    const buf = fs.readFileSync(path.join(root, f));
    const g = zlib.gzipSync(buf, { level: 9 }).length;
    const b = zlib.brotliCompressSync(buf).length;
    out[f] = { raw: buf.length, gzip: g, brotli: b };
    raw += buf.length; gz += g; br += b;
  }
  out.total = { raw, gzip: gz, brotli: br };
  return out;
}

const server = await serve(root);
const url = `http://127.0.0.1:${server.address().port}/bench/index.html?runs=${RUNS}&simd=${arg('simd', 'auto')}`; // --simd simd128: without relaxed SIMD
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...CHROMIUM_FLAGS, ...(process.env.CHROMIUM_EXTRA_FLAGS || '').split(' ').filter(Boolean)] }); // e.g. --js-flags=--no-liftoff to diagnose
const results = [];
const threaded = [];
// The machine's own speed before each run: V8's f32x4.relaxed_madd peak (bench/simd-peak.mjs),
// so that a run on a VM slowed by its neighbours says so.
const peaks = [];
const measurePeak = async () => peaks.push((await simdPeak(browser, { tiles: false }))['peak f32x4.relaxed_madd']);
async function runPage(pageUrl) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.__bench, null, { timeout: 600_000 });
  const r = await page.evaluate(() => window.__bench);
  await context.close();
  if (!r.ok) throw new Error(r.error);
  return r;
}
try {
  for (let i = 0; i < REPEAT; i++) {
    await measurePeak();
    const r = await runPage(url);
    results.push(r);
    process.stderr.write(`run ${i + 1}/${REPEAT}: total median ${r.faceproof.stages.total.median.toFixed(1)} ms (machine: ${peaks.at(-1)} GMAC/s peak)\n`);
  }
  for (let i = 0; THREADS > 1 && i < REPEAT; i++) {
    await measurePeak();
    const r = await runPage(`${url}&threads=${THREADS}`);
    threaded.push(r);
    process.stderr.write(`run ${i + 1}/${REPEAT}, ${THREADS} threads: total median ${r.faceproof.stages.total.median.toFixed(1)} ms (machine: ${peaks.at(-1)} GMAC/s peak)\n`);
  }
} finally {
  await browser.close();
  server.close();
}

const spread = (get, from = results) => {
  const v = from.map(get);
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v), runs: v };
};
// the module the page loaded: the relaxed-SIMD build where Chromium has it
const WASM = results[0].faceproof.simd === 'relaxed' ? 'pkg/faceproof_wasm_relaxed_bg.wasm' : 'pkg/faceproof_wasm_bg.wasm';
const stages = ['detect', 'landmarks', 'align', 'embed', 'total'];
const ortModels = { detect: 'blazeface_front_128.onnx', landmarks: 'facemesh_468.onnx', embed: 'mobilefacenet_192.onnx' };
const summary = {
  date: new Date().toISOString(),
  browser: results[0].userAgent,
  framesPerRun: RUNS,
  simd: results[0].faceproof.simd,
  repeats: REPEAT,
  machineSimdPeakGmacs: spread((v) => v, peaks),
  faceproof: Object.fromEntries(stages.map((s) => [s, { median: spread((r) => r.faceproof.stages[s].median), p95: spread((r) => r.faceproof.stages[s].p95) }])),
  onnxruntimeWeb: Object.fromEntries(Object.entries(ortModels).map(([s, m]) => [s, { median: spread((r) => r.onnxruntime.models[m].median), p95: spread((r) => r.onnxruntime.models[m].p95) }])),
  ratio: Object.fromEntries(Object.keys(results[0].ratio).map((k) => [k, spread((r) => r.ratio[k])])),
  coldStart: {
    faceproofFirstEmbeddingMs: spread((r) => r.faceproof.coldStart.totalMs),
    faceproofBreakdown: results.map((r) => r.faceproof.coldStart),
    onnxruntimeLoadMs: spread((r) => r.onnxruntime.coldStart.loadMs),
  },
  wasmMemoryBytes: spread((r) => r.faceproof.memoryBytes),
  previewFrameMs: { median: spread((r) => r.faceproof.preview.median), p95: spread((r) => r.faceproof.preview.p95) },
  previewTrackedFrameMs: { median: spread((r) => r.faceproof.previewTracked.median), p95: spread((r) => r.faceproof.previewTracked.p95) },
  previewPassiveFrameMs: { median: spread((r) => r.faceproof.previewPassive.median), p95: spread((r) => r.faceproof.previewPassive.p95) },
  crypto: {
    enrollMs: spread((r) => r.faceproof.crypto.enroll.median), proveMs: spread((r) => r.faceproof.crypto.prove.median),
    evaluateMs: spread((r) => r.faceproof.crypto.evaluate.median), loginElements: results[0].faceproof.crypto.loginElements,
    referenceBytes: results[0].faceproof.crypto.referenceBytes,
  },
  threads: threaded.length === 0 ? null : {
    threads: THREADS,
    faceproof: Object.fromEntries(stages.map((s) => [s, { median: spread((r) => r.faceproof.stages[s].median, threaded), p95: spread((r) => r.faceproof.stages[s].p95, threaded) }])),
    onnxruntimeWeb: Object.fromEntries(Object.entries(ortModels).map(([s, m]) => [s, { median: spread((r) => r.onnxruntime.models[m].median, threaded) }])),
    ratio: Object.fromEntries(Object.keys(threaded[0].ratio).map((k) => [k, spread((r) => r.ratio[k], threaded)])),
    coldStartMs: spread((r) => r.faceproof.coldStart.totalMs, threaded),
    coldStartBreakdown: threaded.map((r) => r.faceproof.coldStart),
  },
  download: {
    faceproof: sizes([WASM, 'pkg/faceproof_wasm.js', 'pkg/index.js', 'pkg/errors.js', 'pkg/worker.js', 'pkg/features.js',
      'pkg/models/blazeface_front_128.onnx', 'pkg/models/facemesh_468.onnx', 'pkg/models/mobilefacenet_192.onnx']),
    onnxruntimeWebEngine: sizes(['node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm', 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs', 'node_modules/onnxruntime-web/dist/ort.wasm.min.mjs']),
  },
};

fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench/results/latest.json'), JSON.stringify({ summary, raw: results }, null, 2));
fs.writeFileSync(path.join(root, 'bench/results/stages.svg'), chart(summary));

const f = (x) => x.toFixed(1);
console.log(`\nfaceproof benchmark: headless ${summary.browser.match(/Chrome\/[\d.]+/)?.[0]}, 1 thread, ${summary.simd === 'relaxed' ? 'relaxed SIMD' : 'SIMD'}; ${RUNS} frames x ${REPEAT} runs (mean [min-max] of run medians)`);
console.log('stage       faceproof median   p95        onnxruntime-web median  ratio');
for (const s of stages) {
  const fp = summary.faceproof[s];
  const o = summary.onnxruntimeWeb[s];
  const r = summary.ratio[s];
  console.log(`${s.padEnd(11)} ${f(fp.median.mean).padStart(6)} [${f(fp.median.min)}-${f(fp.median.max)}]  ${f(fp.p95.mean).padStart(6)}     ${o ? `${f(o.median.mean).padStart(6)} [${f(o.median.min)}-${f(o.median.max)}]` : (s === 'total' ? '(sum of models)    ' : '   -               ')}   ${r ? r.mean.toFixed(2) : "-"}`);
}
console.log(`cold start to first embedding: ${f(summary.coldStart.faceproofFirstEmbeddingMs.mean)} ms [${f(summary.coldStart.faceproofFirstEmbeddingMs.min)}-${f(summary.coldStart.faceproofFirstEmbeddingMs.max)}]; onnxruntime-web sessions ready: ${f(summary.coldStart.onnxruntimeLoadMs.mean)} ms`);
if (summary.threads) {
  const t = summary.threads;
  console.log(`${t.threads} threads (cross-origin isolated page; faceproof's threads build in a Worker, onnxruntime-web numThreads=${t.threads}):`);
  for (const s of stages) {
    const fp = t.faceproof[s], o = t.onnxruntimeWeb[s], r = t.ratio[s];
    console.log(`${s.padEnd(11)} ${f(fp.median.mean).padStart(6)} [${f(fp.median.min)}-${f(fp.median.max)}]  ${f(fp.p95.mean).padStart(6)}     ${o ? `${f(o.median.mean).padStart(6)} [${f(o.median.min)}-${f(o.median.max)}]` : (s === 'total' ? '(sum of models)    ' : '   -               ')}   ${r ? r.mean.toFixed(2) : '-'}`);
  }
  console.log(`cold start to first embedding on ${t.threads} threads (worker start and thread pool included): ${f(t.coldStartMs.mean)} ms [${f(t.coldStartMs.min)}-${f(t.coldStartMs.max)}]`);
}
const d = summary.download.faceproof;
console.log(`.wasm (${WASM}): ${d[WASM].raw} B raw, ${d[WASM].gzip} B gzip, ${d[WASM].brotli} B brotli`);
console.log(`download (wasm + JS + 3 models): ${d.total.raw} B raw, ${d.total.gzip} B gzip, ${d.total.brotli} B brotli`);
console.log(`live preview frame (analyze, no embedding): median ${f(summary.previewFrameMs.median.mean)} ms [${f(summary.previewFrameMs.median.min)}-${f(summary.previewFrameMs.median.max)}], p95 ${f(summary.previewFrameMs.p95.mean)} ms`);
console.log(`live preview frame with tracking (detector 1 frame in 4): median ${f(summary.previewTrackedFrameMs.median.mean)} ms [${f(summary.previewTrackedFrameMs.median.min)}-${f(summary.previewTrackedFrameMs.median.max)}], p95 ${f(summary.previewTrackedFrameMs.p95.mean)} ms`);
console.log(`live preview frame with the passive anti-spoofing check (its two models loaded): median ${f(summary.previewPassiveFrameMs.median.mean)} ms [${f(summary.previewPassiveFrameMs.median.min)}-${f(summary.previewPassiveFrameMs.median.max)}], p95 ${f(summary.previewPassiveFrameMs.p95.mean)} ms`);
console.log(`protection crypto (no inference), client: enroll ${f(summary.crypto.enrollMs.mean)} ms [${f(summary.crypto.enrollMs.min)}-${f(summary.crypto.enrollMs.max)}], prove (blind, unblind, open the key, sign) ${f(summary.crypto.proveMs.mean)} ms [${f(summary.crypto.proveMs.min)}-${f(summary.crypto.proveMs.max)}]; relying party's evaluation of the login's ${summary.crypto.loginElements} elements in wasm: ${f(summary.crypto.evaluateMs.mean)} ms; reference ${summary.crypto.referenceBytes} B`);
console.log(`wasm memory after the runs: ${(summary.wasmMemoryBytes.mean / 1048576).toFixed(1)} MiB`);
console.log(`this machine before each run: V8's wasm f32x4.relaxed_madd peak ${f(summary.machineSimdPeakGmacs.mean)} GMAC/s [${f(summary.machineSimdPeakGmacs.min)}-${f(summary.machineSimdPeakGmacs.max)}] (bench/simd-peak.mjs; lower when the VM's neighbours are busy)`);
console.log('wrote bench/results/latest.json and bench/results/stages.svg');

function chart(s) {
  const rows = ['detect', 'landmarks', 'embed'];
  const max = Math.max(...rows.flatMap((r) => [s.faceproof[r].median.mean, s.onnxruntimeWeb[r].median.mean]));
  const W = 560, bar = 14, gap = 10, left = 90, scale = (W - left - 60) / max;
  let y = 30, body = '';
  for (const r of rows) {
    for (const [name, v, color] of [['faceproof', s.faceproof[r].median.mean, '#2a7'], ['onnxruntime-web', s.onnxruntimeWeb[r].median.mean, '#888']]) {
      body += `<rect x="${left}" y="${y}" width="${(v * scale).toFixed(1)}" height="${bar}" fill="${color}"/>`;
      body += `<text x="${left + v * scale + 4}" y="${y + 11}" font-size="11">${v.toFixed(1)} ms</text>`;
      if (name === 'faceproof') body += `<text x="4" y="${y + 18}" font-size="12">${r}</text>`;
      y += bar + 2;
    }
    y += gap;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 24}" font-family="sans-serif">` +
    `<text x="4" y="16" font-size="13">median ms per frame, headless Chromium, 1 thread (green: faceproof, grey: onnxruntime-web)</text>${body}</svg>`;
}
