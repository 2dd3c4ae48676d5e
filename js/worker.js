// faceproof worker: owns the wasm module and the models, off the page's main thread.
// Messages in:  {id, op: 'init', models: {name: url}, wasmUrl?}
//               {id, op: <FaceEngine method>, args: [...]}
// Messages out: {id, result} | {id, error: {message, code}} | {op: 'progress', ...}
import init, { FaceEngine, newDeviceSecret } from './faceproof_wasm.js';
import { hasRelaxedSimd } from './features.js';

let engine = null;

function post(msg, transfer) {
  self.postMessage(msg, transfer || []);
}

async function fetchWithProgress(name, url, report) {
  const res = await fetch(url);
  if (!res.ok) throw Object.assign(new Error(`could not fetch ${url}: HTTP ${res.status}`), { code: 'MODEL_LOAD' });
  const total = Number(res.headers.get('content-length')) || 0;
  if (!res.body || !total) {
    const buf = new Uint8Array(await res.arrayBuffer());
    report(name, buf.length, buf.length);
    return buf;
  }
  const reader = res.body.getReader();
  const out = new Uint8Array(total);
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > out.length) throw Object.assign(new Error(`${url}: longer than announced`), { code: 'MODEL_LOAD' });
    out.set(value, loaded);
    loaded += value.length;
    report(name, loaded, total);
  }
  return out.subarray(0, loaded);
}

const ops = {
  async init({ models, wasmUrl }) {
    const t0 = performance.now();
    // the models download while the wasm module compiles
    const report = (file, loaded, total) => post({ op: 'progress', file, loaded, total });
    const fetching = Promise.all(Object.entries(models).map(async ([name, url]) => [name, await fetchWithProgress(name, url, report)]));
    fetching.catch(() => {}); // reported by the await below, not as an unhandled rejection
    const relaxed = !wasmUrl && hasRelaxedSimd();
    const wasm = wasmUrl || (relaxed ? new URL('./faceproof_wasm_relaxed_bg.wasm', import.meta.url) : undefined);
    await init(wasm ? { module_or_path: wasm } : undefined);
    const tWasm = performance.now();
    engine = new FaceEngine();
    const bytes = await fetching;
    const tFetch = performance.now();
    for (const [name, b] of bytes) engine.loadModel(name, b);
    const tLoad = performance.now();
    return { wasmMs: tWasm - t0, fetchMs: tFetch - tWasm, loadMs: tLoad - tFetch, simd: wasmUrl ? 'custom' : relaxed ? 'relaxed' : 'simd128' };
  },
  newDeviceSecret() {
    return newDeviceSecret();
  },
  call({ method, args }) {
    if (!engine) throw Object.assign(new Error('engine not initialised'), { code: 'MODEL_NOT_LOADED' });
    if (typeof engine[method] !== 'function' && method !== 'capturedFrames') {
      throw Object.assign(new Error(`unknown method ${method}`), { code: 'INVALID_ARGUMENT' });
    }
    return method === 'capturedFrames' ? engine.capturedFrames : engine[method](...args);
  },
};

self.onmessage = async (ev) => {
  const { id, op, ...rest } = ev.data;
  try {
    const fn = ops[op];
    if (!fn) throw Object.assign(new Error(`unknown op ${op}`), { code: 'INVALID_ARGUMENT' });
    const result = await fn(rest);
    const transfer = [];
    if (result instanceof Uint8Array || result instanceof Float32Array) transfer.push(result.buffer);
    post({ id, result }, transfer);
  } catch (e) {
    post({ id, error: { message: String(e && e.message || e), code: (e && e.code) || 'INTERNAL' } });
  }
};
