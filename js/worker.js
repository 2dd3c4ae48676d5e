// faceproof worker: owns the wasm module and the models, off the page's main thread.
// Messages in:  {id, op: 'init', models: {name: url}, lazyModels?: {name: url}, wasmUrl?, threads?}
//               {id, op: <FaceEngine method>, args: [...]}
// Messages out: {id, result} | {id, error: {message, code}} | {op: 'progress', ...}
import * as singleThread from './faceproof_wasm.js';
import { hasRelaxedSimd } from './features.js';

let wasm = singleThread; // the module in use: this one, or the threads build
let engine = null;

// The threads build (shared memory + relaxed SIMD, README "Threads") lives in ./threads/ next to
// this file. It is loaded only on request, so bundlers neither need nor copy it: the base URL is
// a variable, which Vite and webpack leave alone.
const HERE = import.meta.url;
async function loadThreadsBuild(threads) {
  const mod = await import(/* @vite-ignore */ /* webpackIgnore: true */ new URL('threads/faceproof_wasm.js', HERE).href);
  await mod.default({ module_or_path: new URL('threads/faceproof_wasm_bg.wasm', HERE) });
  await mod.initThreadPool(threads);
  return mod;
}

function post(msg, transfer) {
  self.postMessage(msg, transfer || []);
}

/** Download progress to the page (`onProgress`). */
const report = (file, loaded, total) => post({ op: 'progress', file, loaded, total });

async function fetchWithProgress(name, url) {
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

// Models fetched and loaded on first use (the ID-photo detector): name -> url
let lazyModels = {};
let lazyLoading = null; // one load at a time, shared by the calls that wait for it

function loadLazyModels() {
  lazyLoading ||= (async () => {
    for (const [name, url] of Object.entries(lazyModels)) {
      engine.loadModel(name, await fetchWithProgress(name, url));
      delete lazyModels[name];
    }
  })().finally(() => { lazyLoading = null; });
  return lazyLoading;
}

const ops = {
  async init({ models, lazyModels: lazy = {}, wasmUrl, threads = 1 }) {
    const t0 = performance.now();
    // the models download while the wasm module compiles
    const fetching = Promise.all(Object.entries(models).map(async ([name, url]) => [name, await fetchWithProgress(name, url)]));
    fetching.catch(() => {}); // reported by the await below, not as an unhandled rejection
    const relaxed = !wasmUrl && hasRelaxedSimd();
    // threads need shared memory (a cross-origin isolated page); otherwise one thread
    const threaded = relaxed && threads > 1 && self.crossOriginIsolated === true;
    if (threaded) {
      wasm = await loadThreadsBuild(Math.floor(threads));
    } else {
      const url = wasmUrl || (relaxed ? new URL('./faceproof_wasm_relaxed_bg.wasm', import.meta.url) : undefined);
      await singleThread.default(url ? { module_or_path: url } : undefined);
    }
    const tWasm = performance.now();
    engine = new wasm.FaceEngine();
    const bytes = await fetching;
    const tFetch = performance.now();
    for (const [name, b] of bytes) engine.loadModel(name, b);
    lazyModels = { ...lazy };
    const tLoad = performance.now();
    return {
      wasmMs: tWasm - t0, fetchMs: tFetch - tWasm, loadMs: tLoad - tFetch,
      simd: wasmUrl ? 'custom' : relaxed ? 'relaxed' : 'simd128', threads: threaded ? Math.floor(threads) : 1,
    };
  },
  newDeviceSecret() {
    return wasm.newDeviceSecret();
  },
  async call({ method, args }) {
    if (!engine) throw Object.assign(new Error('engine not initialised'), { code: 'MODEL_NOT_LOADED' });
    if (typeof engine[method] !== 'function' && method !== 'capturedFrames') {
      throw Object.assign(new Error(`unknown method ${method}`), { code: 'INVALID_ARGUMENT' });
    }
    if (method === 'capturedFrames') return engine.capturedFrames;
    try {
      return engine[method](...args);
    } catch (e) {
      // a model loaded on first use: load it, then run the call again (the call failed before
      // doing anything: models are looked up first)
      if (!(e && e.code === 'MODEL_NOT_LOADED' && Object.keys(lazyModels).length)) throw e;
      await loadLazyModels();
      return engine[method](...args);
    }
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
