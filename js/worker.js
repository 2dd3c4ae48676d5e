// faceproof worker: owns the wasm module and the models, off the page's main thread.
// Messages in:  {id, op: 'init', models: {name: url}, lazyModels?: {name: url}, wasmUrl?, threads?,
//                customModels?: [names of models at URLs of the page's choosing]}
//               {id, op: <FaceEngine method>, args: [...]}
// Messages out: {id, result} | {id, error: {message, code}} | {op: 'progress', ...}
// (init answers {timings, limits}; the page checks arguments before posting, the engine again)
import * as singleThread from './faceproof_wasm.js';
import { hasRelaxedSimd } from './features.js';
import { FILE_SIZES } from './sizes.js';

let wasm = singleThread; // the module in use: this one, or the threads build
let engine = null;

// The threads build (shared memory + relaxed SIMD, docs/performance.md, "Threads") lives in ./threads/ next to
// this file. It is loaded only on request, so bundlers neither need nor copy it: the base URL is
// a variable, which Vite and webpack leave alone.
const HERE = import.meta.url;
const THREADS_WASM = 'threads/faceproof_wasm_bg.wasm';
async function loadThreadsBuild(threads, download) {
  const glue = new URL('threads/faceproof_wasm.js', HERE).href;
  let mod;
  try {
    mod = await import(/* @vite-ignore */ /* webpackIgnore: true */ glue);
  } catch (e) {
    throw coded(`could not load the threads build ${glue}: ${e && e.message}`, 'WASM_LOAD');
  }
  await instantiate(mod, new URL(THREADS_WASM, HERE), download);
  await mod.initThreadPool(threads);
  return mod;
}

const coded = (message, code) => Object.assign(new Error(message), { code });

function post(msg, transfer) {
  self.postMessage(msg, transfer || []);
}

/**
 * One download progress over every file `init` fetches, to the page (`onProgress`): {file,
 * loaded, total}. `total` is the sum of the files' sizes, fixed before the first report: the
 * package's own files have their sizes in FILE_SIZES (sizes.js, written by the package build);
 * a file from another URL has its Content-Length (when the body is not compressed) or, without
 * one, is read whole before anything is reported. A file counts at most its size and counts its
 * size once read whole, so `loaded` never decreases and ends equal to `total`.
 */
class Progress {
  #files = [];
  #last = -1;
  /** A file to download: its size in bytes, or undefined (set it with `size()` or learn it by reading). */
  file(name, size) {
    const f = { name, size, got: 0, done: false };
    this.#files.push(f);
    return f;
  }
  /** The size a response announces for `f` (kept if already known). */
  size(f, res) {
    if (f.size !== undefined || f.done) return;
    const encoding = res.headers.get('content-encoding');
    const length = Number(res.headers.get('content-length'));
    if ((!encoding || encoding === 'identity') && Number.isSafeInteger(length) && length > 0) f.size = length;
    this.#report(f);
  }
  bytes(f, n) {
    f.got += n;
    this.#report(f);
  }
  done(f) {
    f.done = true;
    if (f.size === undefined) f.size = f.got;
    this.#report(f);
  }
  #report(f) {
    if (this.#files.some((x) => x.size === undefined)) return;
    let loaded = 0;
    let total = 0;
    for (const x of this.#files) {
      total += x.size;
      loaded += x.done ? x.size : Math.min(x.got, x.size);
    }
    if (loaded === this.#last) return;
    this.#last = loaded;
    post({ op: 'progress', file: f.name, loaded, total });
  }
}

/** `fetch`, with the body counted by `download` ({progress, file}: see Progress) when given. */
async function fetchCounted(url, download) {
  const res = await fetch(url);
  if (!download || !res.ok) return res;
  const { progress, file } = download;
  progress.size(file, res);
  if (!res.body) {
    const buf = await res.arrayBuffer();
    progress.bytes(file, buf.byteLength);
    progress.done(file);
    return new Response(buf, { status: res.status, headers: contentType(res) });
  }
  const counter = new TransformStream({
    transform(chunk, controller) {
      progress.bytes(file, chunk.byteLength);
      controller.enqueue(chunk);
    },
    flush() {
      progress.done(file);
    },
  });
  return new Response(res.body.pipeThrough(counter), { status: res.status, headers: contentType(res) });
}

/** The response's content type (what streaming compilation of a .wasm checks). */
const contentType = (res) => ({ 'content-type': res.headers.get('content-type') || 'application/octet-stream' });

/** Fetch and instantiate a wasm module (compiled as it downloads); a failure is WASM_LOAD naming the URL. */
async function instantiate(mod, url, download) {
  let href;
  try {
    href = new URL(url, self.location.href).href;
  } catch {
    throw coded(`the wasm module URL ${JSON.stringify(String(url))} is not a valid URL`, 'WASM_LOAD');
  }
  let res;
  try {
    res = await fetchCounted(href, download);
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

/** The bytes of a model file; a failure is MODEL_LOAD naming the URL. */
async function fetchModel(url, download) {
  let res;
  try {
    res = await fetchCounted(url, download);
  } catch (e) {
    throw coded(`could not fetch ${url}: ${e && e.message}`, 'MODEL_LOAD');
  }
  if (!res.ok) throw coded(`could not fetch ${url}: HTTP ${res.status}`, 'MODEL_LOAD');
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw coded(`could not fetch ${url}: ${e && e.message}`, 'MODEL_LOAD');
  }
}

// Models fetched and loaded on first use (the ID-photo detector): name -> url
let lazyModels = {};
let lazyLoading = null; // one load at a time, shared by the calls that wait for it

function loadLazyModels() {
  lazyLoading ||= (async () => {
    for (const [name, url] of Object.entries(lazyModels)) {
      engine.loadModel(name, await fetchModel(url));
      delete lazyModels[name];
    }
  })().finally(() => { lazyLoading = null; });
  return lazyLoading;
}

const ops = {
  async init({ models, lazyModels: lazy = {}, wasmUrl, threads = 1, customModels = [] }) {
    const t0 = performance.now();
    const relaxed = !wasmUrl && hasRelaxedSimd();
    // threads need shared memory (a cross-origin isolated page); otherwise one thread
    const threaded = relaxed && threads > 1 && self.crossOriginIsolated === true;
    // every file this call downloads, with its size when it is the package's own (Progress)
    const progress = new Progress();
    const wasmFile = threaded ? THREADS_WASM : relaxed ? 'faceproof_wasm_relaxed_bg.wasm' : 'faceproof_wasm_bg.wasm';
    const wasmDownload = { progress, file: progress.file(wasmUrl ? String(wasmUrl) : wasmFile, wasmUrl ? undefined : FILE_SIZES[wasmFile]) };
    const modelDownloads = Object.keys(models).map((name) =>
      ({ progress, file: progress.file(name, customModels.includes(name) ? undefined : FILE_SIZES[`models/${name}`]) }));
    // the models download while the wasm module compiles
    const fetching = Promise.all(Object.entries(models).map(async ([name, url], i) => [name, await fetchModel(url, modelDownloads[i])]));
    fetching.catch(() => {}); // reported by the await below, not as an unhandled rejection
    if (threaded) {
      wasm = await loadThreadsBuild(Math.floor(threads), wasmDownload);
    } else {
      const url = wasmUrl
        || (relaxed ? new URL('./faceproof_wasm_relaxed_bg.wasm', import.meta.url) : new URL('./faceproof_wasm_bg.wasm', import.meta.url));
      await instantiate(singleThread, url, wasmDownload);
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
