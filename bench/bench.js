// One page, one run: faceproof (wasm, 1 thread, SIMD) and onnxruntime-web (wasm EP, 1 thread,
// SIMD) on the same models and inputs. Results go to window.__bench for bench/run.mjs.
const params = new URLSearchParams(location.search);
const RUNS = Number(params.get('runs') || 50);
const IMAGE = params.get('image') || '/tests/data/portraits/obama.jpg';
// ?threads=N: both engines with N threads (faceproof's threads build in a Worker); stages only
const THREADS = Number(params.get('threads') || 1);
// ?cold=1: stop at the first embedding (bench/cold.mjs); ?wasm=/pkg/x.wasm: another build, same JS glue
const COLD_ONLY = params.get('cold') === '1';
const WASM_URL = params.get('wasm');
// ?sdk=1 (with cold=1): the cold start through the npm package's API, `FaceProof.create()` then
// `embed(frame)`: its worker, its defaults
const SDK = params.get('sdk') === '1';
const PKG = params.get('pkg') || '/pkg'; // ?pkg=/other/pkg: another copy of the package (A/B of its JS)

// cold start counts from the navigation's start (performance.now() = 0), i.e. the page's first byte
const tScript = performance.now();
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const p95 = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]; };
const stats = (a) => ({ median: median(a), p95: p95(a), runs: a.length });

async function imageData(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  const c = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(0, 0, c.width, c.height);
}

const MODELS = ['blazeface_front_128.onnx', 'facemesh_468.onnx', 'mobilefacenet_192.onnx'];

async function faceproof(framePromise) {
  const tStart = performance.now();
  // as js/worker.js does: the models download while the wasm module compiles
  const fetching = Promise.all(MODELS.map(async (m) => new Uint8Array(await (await fetch(`/pkg/models/${m}`)).arrayBuffer())));
  // both at once, as js/worker.js's static imports load them
  const [wasm, { hasRelaxedSimd }] = await Promise.all([import('/pkg/faceproof_wasm.js'), import('/pkg/features.js')]);
  // the module js/worker.js picks: relaxed SIMD where the browser has it (?simd=simd128 forces the other)
  const relaxed = params.get('simd') !== 'simd128' && hasRelaxedSimd();
  const wasmUrl = WASM_URL || (relaxed ? '/pkg/faceproof_wasm_relaxed_bg.wasm' : undefined);
  const exports = await wasm.default(wasmUrl ? { module_or_path: wasmUrl } : undefined);
  const tWasm = performance.now();
  const bytes = await fetching;
  const tFetch = performance.now();
  const engine = new wasm.FaceEngine();
  MODELS.forEach((m, i) => engine.loadModel(m, bytes[i]));
  const tLoad = performance.now();
  // the input frame is decoded while the module loads, as a page opens its camera meanwhile
  const frame = await framePromise;
  const rgba = new Uint8Array(frame.data.buffer);
  const first = engine.embed(rgba, frame.width, frame.height, undefined);
  const tFirst = performance.now();
  const coldStart = { wasmMs: tWasm - tStart, fetchModelsMs: tFetch - tWasm, loadModelsMs: tLoad - tFetch, firstEmbeddingMs: tFirst - tLoad, pageMs: tScript, totalMs: tFirst };
  if (COLD_ONLY) return { coldStart, embeddingLength: first.length };
  const stages = { detect: [], landmarks: [], align: [], embed: [], total: [] };
  for (let i = 0; i < RUNS; i++) {
    const a = performance.now();
    const r = engine.template(rgba, frame.width, frame.height, undefined);
    const b = performance.now();
    for (const k of ['detect', 'landmarks', 'align', 'embed']) stages[k].push(r.times[k]);
    stages.total.push(b - a);
  }
  // a live preview frame: analyze (detect + landmarks + align + quality, no embedding)
  const preview = [];
  for (let i = 0; i < RUNS; i++) {
    const a = performance.now();
    engine.analyze(rgba, frame.width, frame.height, undefined);
    preview.push(performance.now() - a);
  }
  // the same with tracking (detector on one frame in four)
  const tracked = [];
  for (let i = 0; i < RUNS; i++) {
    const a = performance.now();
    engine.analyze(rgba, frame.width, frame.height, { track: true });
    tracked.push(performance.now() - a);
  }
  // the passive anti-spoofing check: the same preview frames with its two models loaded
  const spoofModels = ['antispoof_2.7_80.onnx', 'antispoof_4.0_80.onnx'];
  const spoofBytes = await Promise.all(spoofModels.map(async (m) => new Uint8Array(await (await fetch(`/pkg/models/${m}`)).arrayBuffer())));
  spoofModels.forEach((m, i) => engine.loadModel(m, spoofBytes[i]));
  const previewPassive = [];
  for (let i = 0; i < RUNS; i++) {
    const a = performance.now();
    engine.analyze(rgba, frame.width, frame.height, undefined);
    previewPassive.push(performance.now() - a);
  }
  // protection crypto alone (faces captured beforehand): the client's part of an enrollment and
  // of a login (blind, unblind, open the key, sign), and the relying party's OPRF evaluation of
  // the login's batch in this page. The login's face is another photo of the same person, so
  // that its views disagree on some bits as live frames do.
  const enrollMs = [], proveMs = [], evaluateMs = [], elements = [];
  const rp = new wasm.RelyingParty('bench.example');
  const secret = wasm.newDeviceSecret();
  const oprfKey = wasm.newOprfKey();
  const other = await imageData(params.get('login') || '/tests/data/portraits/obama2.jpg');
  const otherRgba = new Uint8Array(other.data.buffer);
  let reference = null;
  for (let i = 0; i < Math.min(RUNS, 10); i++) {
    engine.capture(rgba, frame.width, frame.height, undefined);
    let a = performance.now();
    const blindedEnroll = engine.enrollStart(secret, 'bench.example', 1);
    let client = performance.now() - a;
    const evaluatedEnroll = wasm.evaluateBatch(oprfKey, blindedEnroll, blindedEnroll.length / 32);
    a = performance.now();
    reference = engine.enrollFinish(evaluatedEnroll).reference;
    enrollMs.push(client + performance.now() - a);
    engine.capture(otherRgba, other.width, other.height, undefined);
    const ch = rp.issueChallenge(Date.now());
    a = performance.now();
    const blinded = engine.proveStart(secret, reference, ch, Date.now(), false);
    client = performance.now() - a;
    a = performance.now();
    const evaluated = rp.evaluate(ch.nonce, oprfKey, blinded, Date.now());
    evaluateMs.push(performance.now() - a);
    elements.push(blinded.length / 32);
    a = performance.now();
    engine.proveFinish(evaluated);
    proveMs.push(client + performance.now() - a);
  }
  return {
    crypto: {
      enroll: stats(enrollMs), prove: stats(proveMs), evaluate: stats(evaluateMs),
      loginElements: median(elements), referenceBytes: reference.length,
    },
    preview: stats(preview),
    previewTracked: stats(tracked),
    previewPassive: stats(previewPassive),
    coldStart,
    stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, stats(v)])),
    memoryBytes: exports.memory.buffer.byteLength,
    simd: relaxed ? 'relaxed' : 'simd128',
    embeddingLength: first.length,
  };
}

async function faceproofSdk(framePromise) {
  const tStart = performance.now();
  const { FaceProof } = await import(`${PKG}/index.js`);
  const fp = await FaceProof.create(THREADS > 1 ? { threads: THREADS } : {});
  const tReady = performance.now();
  const frame = await framePromise;
  const tFrame = performance.now();
  const e = await fp.embed(frame);
  const tFirst = performance.now();
  fp.terminate();
  const { wasmMs, fetchMs, loadMs, threads } = fp.timings;
  return { coldStart: { pageMs: tScript, createMs: tReady - tStart, wasmMs, fetchModelsMs: fetchMs, loadModelsMs: loadMs, frameWaitMs: tFrame - tReady, firstEmbeddingMs: tFirst - tFrame, totalMs: tFirst, threads }, embeddingLength: e.length };
}

async function faceproofThreaded(framePromise) {
  // the worker starts loading at once; the frame follows when decoded
  const worker = new Worker('/bench/threads-worker.js', { type: 'module' });
  const done = new Promise((resolve) => { worker.onmessage = (e) => resolve(e.data); });
  worker.postMessage({ threads: THREADS, runs: COLD_ONLY ? 0 : RUNS, models: MODELS, pageOrigin: performance.timeOrigin });
  const frame = await framePromise;
  worker.postMessage({ rgba: new Uint8Array(frame.data.buffer), width: frame.width, height: frame.height });
  const r = await done;
  worker.terminate();
  if (!r.ok) throw new Error(r.error);
  const coldStart = { ...r.coldStart, pageMs: tScript };
  if (COLD_ONLY) return { threads: THREADS, coldStart };
  return { threads: THREADS, coldStart, stages: Object.fromEntries(Object.entries(r.stages).map(([k, v]) => [k, stats(v)])) };
}

async function onnxruntime() {
  const tStart = performance.now();
  const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
  ort.env.wasm.numThreads = THREADS;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const sessions = {};
  for (const m of MODELS) sessions[m] = await ort.InferenceSession.create(`/pkg/models/${m}`, opts);
  const tLoad = performance.now();
  // same shapes as faceproof's stages: detector 1x128x128x3, mesh 1x192x192x3, embedder 2x112x112x3 (flip pair)
  const input = (shape, v) => new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b)).fill(v), shape);
  const feeds = {
    'blazeface_front_128.onnx': { 'input:0': input([1, 128, 128, 3], 0.1) },
    'facemesh_468.onnx': { input_1: input([1, 192, 192, 3], 0.5) },
    'mobilefacenet_192.onnx': { input: input([2, 112, 112, 3], 0.1) },
  };
  await sessions['mobilefacenet_192.onnx'].run(feeds['mobilefacenet_192.onnx']);
  const tFirst = performance.now();
  const out = {};
  for (const m of MODELS) {
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const a = performance.now();
      await sessions[m].run(feeds[m]);
      times.push(performance.now() - a);
    }
    out[m] = stats(times);
  }
  return { coldStart: { loadMs: tLoad - tStart, firstEmbeddingMs: tFirst - tLoad }, models: out };
}

(async () => {
  try {
    const framePromise = imageData(IMAGE);
    const fp = SDK ? await faceproofSdk(framePromise) : THREADS > 1 ? await faceproofThreaded(framePromise) : await faceproof(framePromise);
    if (COLD_ONLY) {
      window.__bench = { ok: true, faceproof: fp };
      return;
    }
    const ort = await onnxruntime();
    const ours = fp.stages;
    const ratio = {
      detect: ours.detect.median / ort.models['blazeface_front_128.onnx'].median,
      landmarks: ours.landmarks.median / ort.models['facemesh_468.onnx'].median,
      embed: ours.embed.median / ort.models['mobilefacenet_192.onnx'].median,
      total: ours.total.median / (ort.models['blazeface_front_128.onnx'].median + ort.models['facemesh_468.onnx'].median + ort.models['mobilefacenet_192.onnx'].median),
    };
    window.__bench = { ok: true, runs: RUNS, threads: THREADS, image: IMAGE, userAgent: navigator.userAgent, crossOriginIsolated, faceproof: fp, onnxruntime: ort, ratio };
  } catch (e) {
    window.__bench = { ok: false, error: String(e && e.stack || e) };
  }
  document.getElementById('out').textContent = JSON.stringify(window.__bench, null, 2);
})();
