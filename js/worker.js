// faceproof worker: owns the wasm module and the models, off the page's main thread.
// Messages in:  {id, op: 'init', models: {name: url}, lazyModels?: {name: url}, wasmUrl?, threads?}
//               {id, op: <FaceEngine method>, args: [...]}
// Messages out: {id, result} | {id, error: {message, code}} | {op: 'progress', ...}
// (init answers {timings, limits}; the page checks arguments before posting, the engine again)
import * as singleThread from './faceproof_wasm.js';
import { hasRelaxedSimd } from './features.js';

let wasm = singleThread; // the module in use: this one, or the threads build
let engine = null;

// The threads build (shared memory + relaxed SIMD, docs/performance.md, "Threads") lives in ./threads/ next to
// this file. It is loaded only on request, so bundlers neither need nor copy it: the base URL is
// a variable, which Vite and webpack leave alone.
const HERE = import.meta.url;
async function loadThreadsBuild(threads) {
  const glue = new URL('threads/faceproof_wasm.js', HERE).href;
  let mod;
  try {
    mod = await import(/* @vite-ignore */ /* webpackIgnore: true */ glue);
  } catch (e) {
    throw coded(`could not load the threads build ${glue}: ${e && e.message}`, 'WASM_LOAD');
  }
  const wasmUrl = new URL('threads/faceproof_wasm_bg.wasm', HERE);
  try {
    await mod.default({ module_or_path: wasmUrl });
  } catch (e) {
    throw coded(`could not load the threads build's wasm module ${wasmUrl.href}: ${e && e.message}`, 'WASM_LOAD');
  }
  await mod.initThreadPool(threads);
  return mod;
}

const coded = (message, code) => Object.assign(new Error(message), { code });

/** Fetch and instantiate a wasm module; a failure is WASM_LOAD naming the URL. */
async function instantiate(mod, url) {
  let href;
  try {
    href = new URL(url, self.location.href).href;
  } catch {
    throw coded(`the wasm module URL ${JSON.stringify(String(url))} is not a valid URL`, 'WASM_LOAD');
  }
  let res;
  try {
    res = await fetch(href);
  } catch (e) {
    throw coded(`could not fetch the wasm module ${href}: ${e && e.message}`, 'WASM_LOAD');
  }
  if (!res.ok) throw coded(`could not fetch the wasm module ${href}: HTTP ${res.status}`, 'WASM_LOAD');
  try {
    await mod.default({ module_or_path: res });
  } catch (e) {
    throw coded(`could not instantiate the wasm module ${href}: ${e && e.message}`, 'WASM_LOAD');
  }
}

function post(msg, transfer) {
  self.postMessage(msg, transfer || []);
}

/** Download progress to the page (`onProgress`). */
const report = (file, loaded, total) => post({ op: 'progress', file, loaded, total });

async function fetchWithProgress(name, url) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw coded(`could not fetch ${url}: ${e && e.message}`, 'MODEL_LOAD');
  }
  if (!res.ok) throw coded(`could not fetch ${url}: HTTP ${res.status}`, 'MODEL_LOAD');
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
      const url = wasmUrl
        || (relaxed ? new URL('./faceproof_wasm_relaxed_bg.wasm', import.meta.url) : new URL('./faceproof_wasm_bg.wasm', import.meta.url));
      await instantiate(singleThread, url);
    }
    const tWasm = performance.now();
    engine = new wasm.FaceEngine();
    const bytes = await fetching;
    const tFetch = performance.now();
    for (const [name, b] of bytes) engine.loadModel(name, b);
    lazyModels = { ...lazy };
    const tLoad = performance.now();
    const timings = {
      wasmMs: tWasm - t0, fetchMs: tFetch - tWasm, loadMs: tLoad - tFetch,
      simd: wasmUrl ? 'custom' : relaxed ? 'relaxed' : 'simd128', threads: threaded ? Math.floor(threads) : 1,
    };
    return { timings, limits: wasm.limits() };
  },
  newDeviceSecret() {
    return wasm.newDeviceSecret();
  },
  async call({ method, args }) {
    if (!engine) throw Object.assign(new Error('engine not initialised'), { code: 'MODEL_NOT_LOADED' });
    if (method === 'capturedFrames') return engine.capturedFrames;
    if (typeof method !== 'string' || method === 'free' || method === 'constructor' || method.startsWith('_')
        || typeof engine[method] !== 'function') {
      throw Object.assign(new Error(`unknown method ${method}`), { code: 'INVALID_ARGUMENT' });
    }
    try {
      return engine[method](...args);
    } catch (e) {
      // a model loaded on first use: load it, then run the call again (the call failed before
      // doing anything: models are looked up first)
      if (!(e && e.code === 'MODEL_NOT_LOADED' && Object.keys(lazyModels).length)) throw e;
      await loadLazyModels();
      return engine[method](...args);
    } finally {
      // the worker's copies of frames, secrets and references: wiped once the engine has them
      for (const a of args) if (ArrayBuffer.isView(a) && !(a instanceof DataView)) a.fill(0);
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
