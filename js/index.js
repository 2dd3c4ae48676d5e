// faceproof: face verification for e-KYC login inside the browser.
// Promise-based API over a Web Worker that owns the wasm module and the models.
//
//   import { FaceProof } from 'faceproof';
//   const fp = await FaceProof.create({ onProgress: (p) => console.log(p) });
//   const { faces } = await fp.analyze(imageData);
//
// Models load from URLs next to this module (`new URL('./models/…', import.meta.url)`), so
// bundlers (Vite, webpack 5) copy them without configuration; pass `models` to override.
//
// Every method of FaceProof returns a Promise and never throws: arguments are checked here, in
// the page, before anything is posted to the worker, and every failure is a rejected Promise
// with a FaceproofError whose `code` is stable (INVALID_ARGUMENT, BAD_IMAGE_SIZE, NO_FACE, …;
// TERMINATED after terminate()).
import { FaceproofError, invalid, describe, typedArrayTag, byteView, bytesArg, rpIdArg, objectArg, checked } from './errors.js';

export const MODEL_FILES = Object.freeze([
  'blazeface_front_128.onnx',
  'blazeface_back_256.onnx',
  'facemesh_468.onnx',
  'mobilefacenet_192.onnx',
  'antispoof_2.7_80.onnx',
  'antispoof_4.0_80.onnx',
]);

/** The passive anti-spoofing models (printed photos): loaded by default, left out with `antispoof: false`. */
export const ANTISPOOF_MODELS = Object.freeze(['antispoof_2.7_80.onnx', 'antispoof_4.0_80.onnx']);

/** Default model URLs (literal `new URL` calls so that bundlers can see them). */
export function defaultModelUrls() {
  return {
    'blazeface_front_128.onnx': new URL('./models/blazeface_front_128.onnx', import.meta.url).href,
    'blazeface_back_256.onnx': new URL('./models/blazeface_back_256.onnx', import.meta.url).href,
    'facemesh_468.onnx': new URL('./models/facemesh_468.onnx', import.meta.url).href,
    'mobilefacenet_192.onnx': new URL('./models/mobilefacenet_192.onnx', import.meta.url).href,
    'antispoof_2.7_80.onnx': new URL('./models/antispoof_2.7_80.onnx', import.meta.url).href,
    'antispoof_4.0_80.onnx': new URL('./models/antispoof_4.0_80.onnx', import.meta.url).href,
  };
}

export { FaceproofError } from './errors.js';

const MAX_SIDE = 8192; // the engine's limit (limits().maxImageSide), for checks before create() answers

const badSize = (message) => new FaceproofError(message, 'BAD_IMAGE_SIZE');

/**
 * A frame: ImageData or {data: Uint8Array | Uint8ClampedArray (RGBA), width, height}, with
 * positive integer sizes and data.length === width * height * 4. Returns a copy of its bytes
 * that may be transferred to the worker (the caller's frame stays usable).
 */
function frameArg(frame, name, maxSide = MAX_SIDE) {
  if (frame === null || typeof frame !== 'object') {
    throw invalid(`${name} must be ImageData or {data, width, height}, not ${describe(frame)}`);
  }
  const { data, width, height } = frame;
  const tag = typedArrayTag(data);
  if (tag !== 'Uint8Array' && tag !== 'Uint8ClampedArray') {
    throw invalid(`${name}.data must be a Uint8Array or Uint8ClampedArray of RGBA bytes, not ${describe(data)}`);
  }
  if (typeof width !== 'number' || typeof height !== 'number') {
    throw invalid(`${name}.width and .height must be numbers, not ${describe(width)} and ${describe(height)}`);
  }
  const bytes = byteView(data);
  if (width === 0 || height === 0) throw badSize(`${name}: the frame is empty (${width}x${height} pixels)`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw badSize(`${name}: width and height must be positive integers, not ${width}x${height}`);
  }
  if (width > maxSide || height > maxSide) {
    throw badSize(`${name}: the frame is ${width}x${height} pixels, larger than ${maxSide} a side`);
  }
  if (bytes.length === 0) throw badSize(`${name}: the frame is empty (no pixel bytes for ${width}x${height} pixels)`);
  if (bytes.length !== width * height * 4) {
    throw badSize(`${name}: ${bytes.length} bytes of pixels do not match ${width}x${height} pixels of 4 bytes (${width * height * 4} bytes)`);
  }
  return { data: bytes.slice(), width, height };
}

/** Option objects: undefined or an object; the listed keys must have their type (others are ignored). */
function optionsArg(options, name, types) {
  objectArg(options, name, true);
  const out = {};
  if (options === undefined) return out;
  for (const [key, type] of Object.entries(types)) {
    const v = options[key];
    if (v === undefined) continue;
    if (typeof v !== type) throw invalid(`${name}.${key} must be a ${type}, not ${describe(v)}`);
    out[key] = v;
  }
  return out;
}

const EMBED_OPTIONS = { detector: 'string', flip: 'boolean', selection: 'string', reference: 'boolean' };
const ANALYZE_OPTIONS = { ...EMBED_OPTIONS, track: 'boolean' };

/** A challenge as the server issued it: {rpId, nonce (64 hex digits), expiresAt (Unix ms)}. */
function challengeArg(v, name) {
  objectArg(v, name);
  const rpId = rpIdArg(v.rpId, `${name}.rpId`);
  const nonce = v.nonce;
  if (typeof nonce !== 'string' || !/^[0-9a-fA-F]{64}$/.test(nonce)) {
    throw invalid(`${name}.nonce must be 64 hex digits, not ${describe(nonce)}`);
  }
  const expiresAt = v.expiresAt;
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw invalid(`${name}.expiresAt must be a non-negative integer (Unix ms), not ${describe(expiresAt)}`);
  }
  return { rpId, nonce, expiresAt: expiresAt + 0 };
}

function evaluateArg(evaluate) {
  if (typeof evaluate !== 'function') {
    throw invalid(`evaluate must be a function (blinded: Uint8Array) => Promise<Uint8Array> that asks the relying party, not ${describe(evaluate)}`);
  }
}

/**
 * The relying party's evaluation of `blinded`, through the page's `evaluate`: a Uint8Array as long
 * as `blinded` (MALFORMED_EVALUATION otherwise). A failure keeps its code when it has one (the
 * server's), else EVALUATION_FAILED.
 */
async function evaluation(evaluate, blinded) {
  const n = blinded.length;
  let out;
  try {
    out = await evaluate(blinded);
  } catch (e) {
    if (e instanceof FaceproofError) throw e;
    const code = e && typeof e.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(e.code) ? e.code : 'EVALUATION_FAILED';
    throw new FaceproofError(`the relying party's evaluation failed: ${e && e.message ? e.message : String(e)}`, code, { cause: e });
  }
  if (typedArrayTag(out) !== 'Uint8Array' || byteView(out).length !== n) {
    throw new FaceproofError(`evaluate must resolve to a Uint8Array of ${n} bytes, not ${describe(out)}`, 'MALFORMED_EVALUATION');
  }
  return byteView(out).slice();
}

/** Draw an <img>, <video>, <canvas> or ImageBitmap into RGBA ImageData (EXIF orientation applied by the browser). */
export function imageDataFrom(source, maxSide = 1280) {
  if (source === null || typeof source !== 'object') throw invalid(`source must be an image, video, canvas or ImageBitmap, not ${describe(source)}`);
  if (typeof maxSide !== 'number' || !(maxSide >= 1) || !Number.isFinite(maxSide)) throw invalid(`maxSide must be a number of pixels >= 1, not ${describe(maxSide)}`);
  const w0 = source.videoWidth || source.naturalWidth || source.width;
  const h0 = source.videoHeight || source.naturalHeight || source.height;
  if (!(w0 > 0 && h0 > 0)) throw new FaceproofError(`the source has no pixels (${w0}x${h0}): not loaded yet?`, 'BAD_IMAGE_SIZE');
  const s = Math.min(1, maxSide / Math.max(w0, h0));
  const w = Math.max(1, Math.round(w0 * s));
  const h = Math.max(1, Math.round(h0 * s));
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(w, h) : Object.assign(document.createElement('canvas'), { width: w, height: h });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  try {
    ctx.drawImage(source, 0, 0, w, h);
  } catch (e) {
    throw invalid(`source could not be drawn (${e && e.message})`);
  }
  return ctx.getImageData(0, 0, w, h);
}

const terminatedError = () => new FaceproofError('this FaceProof was terminated (terminate()): create a new one', 'TERMINATED');

class WorkerTransport {
  constructor(worker, onProgress) {
    this.worker = worker;
    this.next = 1;
    this.pending = new Map();
    this.terminated = false;
    worker.onmessage = (ev) => {
      const m = ev.data;
      if (m.op === 'progress') {
        if (onProgress) {
          try {
            onProgress({ file: m.file, loaded: m.loaded, total: m.total });
          } catch (e) {
            setTimeout(() => { throw e; }); // the page's callback failed: reported, not swallowed
          }
        }
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new FaceproofError(m.error.message, m.error.code || 'INTERNAL'));
      else p.resolve(m.result);
    };
    worker.onerror = (e) => {
      this.rejectAll(new FaceproofError(e.message || 'worker failed', 'WORKER'));
    };
  }
  rejectAll(error) {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
  send(msg, transfer = []) {
    if (this.terminated) return Promise.reject(terminatedError());
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ id, ...msg }, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(invalid(`the arguments could not be sent to the worker (${e && e.message})`));
      }
    });
  }
  terminate() {
    if (this.terminated) return;
    this.terminated = true;
    try {
      this.worker.terminate();
    } finally {
      this.rejectAll(terminatedError());
    }
  }
}

export { DeviceSecretStore } from './device-secret.js';

/** Models that `create()` does not load: fetched and loaded by the worker when a call first needs them. */
const LAZY_MODELS = Object.freeze(['blazeface_back_256.onnx']);

/** `create()` options, checked and copied (URLs as strings, as the worker receives them). */
function createOptionsArg(options) {
  const o = objectArg(options, 'options', true) || {};
  const { models, wasmUrl, threads, onProgress, worker, antispoof = true } = o;
  const url = (v, name) => {
    if (typeof v === 'string') return v;
    if (v instanceof URL) return v.href;
    throw invalid(`${name} must be a URL (string or URL), not ${describe(v)}`);
  };
  const modelUrls = {};
  if (models !== undefined) {
    objectArg(models, 'options.models');
    for (const [name, v] of Object.entries(models)) {
      if (!MODEL_FILES.includes(name)) throw invalid(`options.models: unknown model ${JSON.stringify(name)} (known: ${MODEL_FILES.join(', ')})`);
      if (v !== undefined) modelUrls[name] = url(v, `options.models[${JSON.stringify(name)}]`);
    }
  }
  if (threads !== undefined && (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 64)) {
    throw invalid(`options.threads must be an integer from 1 to 64, not ${describe(threads)}`);
  }
  if (typeof antispoof !== 'boolean') throw invalid(`options.antispoof must be true or false (left out: true), not ${describe(antispoof)}`);
  if (!antispoof && ANTISPOOF_MODELS.some((name) => modelUrls[name] !== undefined)) {
    throw invalid('options.antispoof is false but options.models names an anti-spoofing model');
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid(`options.onProgress must be a function, not ${describe(onProgress)}`);
  if (worker !== undefined && (worker === null || typeof worker !== 'object' || typeof worker.postMessage !== 'function' || typeof worker.terminate !== 'function')) {
    throw invalid(`options.worker must be a Worker, not ${describe(worker)}`);
  }
  return { models: modelUrls, wasmUrl: wasmUrl === undefined ? undefined : url(wasmUrl, 'options.wasmUrl'), threads, onProgress, worker, antispoof };
}

export class FaceProof {
  #transport;
  #limits;

  constructor(transport, timings, limits, antispoof) {
    this.#transport = transport;
    /**
     * Whether the passive anti-spoofing check runs (its two models loaded): `analyze`/`capture`
     * then report `quality.liveScore`, and liveness runs check their frames. Without it a proof
     * that requires liveness fails verification.
     */
    this.antispoof = antispoof;
    // sizes the worker's module accepts (limits() in wasm)
    this.#limits = { maxImageSide: MAX_SIDE, maxReferenceBytes: Infinity, ...limits };
    /** Cold-start breakdown {wasmMs, fetchMs, loadMs}, which module runs (simd: 'relaxed', 'simd128' or 'custom' for wasmUrl) and on how many threads. */
    this.timings = timings;
  }

  /**
   * Start the worker, compile the wasm module and load the models.
   * `threads: 2` uses the threads build where the page is cross-origin isolated (and one thread elsewhere).
   * `onProgress({file, loaded, total})`: bytes over everything this downloads (.wasm and models),
   * `total` fixed from the first report, `loaded` never decreasing and ending at `total`.
   * `antispoof: false` leaves out the passive anti-spoofing models (liveness then cannot pass a
   * relying party that requires it).
   * @param {{models?: Record<string,string>, wasmUrl?: string, threads?: number, onProgress?: (p:{file:string,loaded:number,total:number})=>void, worker?: Worker, antispoof?: boolean}} [options]
   */
  static async create(options) {
    const o = checked(() => createOptionsArg(options));
    const all = Object.fromEntries(Object.entries({ ...defaultModelUrls(), ...o.models })
      .filter(([name]) => o.antispoof || !ANTISPOOF_MODELS.includes(name)));
    // what verification needs now; the ID-photo detector on first use (`compare`, `detector: 'back'`)
    const models = Object.fromEntries(Object.entries(all).filter(([name]) => !LAZY_MODELS.includes(name)));
    const lazyModels = Object.fromEntries(Object.entries(all).filter(([name]) => LAZY_MODELS.includes(name)));
    const worker = o.worker || new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const transport = new WorkerTransport(worker, o.onProgress);
    try {
      const { timings, limits } = await transport.send({
        op: 'init', models, lazyModels, wasmUrl: o.wasmUrl, threads: o.threads,
        customModels: Object.keys(o.models), // at the page's URLs: sizes from the responses, not the package's list (onProgress)
      });
      return new FaceProof(transport, timings, limits, o.antispoof);
    } catch (e) {
      transport.terminate();
      throw e;
    }
  }

  /**
   * Check the arguments (in the page), then run `method` in the worker. Never throws: a bad
   * argument, a terminated engine or a failure in the worker is a rejected Promise.
   */
  static async #run(self, method, argsFn) {
    if (!FaceProof.#created(self)) throw invalid('not a FaceProof (use `await FaceProof.create()`)');
    const transport = self.#transport;
    if (transport.terminated) throw terminatedError();
    const { args, transfer = [], evaluate, finish } = checked(() => argsFn(self.#limits));
    if (method === 'newDeviceSecret') return transport.send({ op: 'newDeviceSecret' });
    const result = await transport.send({ op: 'call', method, args }, transfer);
    if (!finish) return result;
    // two steps: the blinded lock inputs go to the relying party, its evaluation comes back
    const evaluated = await evaluation(evaluate, result);
    return transport.send({ op: 'call', method: finish, args: [evaluated] }, [evaluated.buffer]);
  }

  /** 32 random bytes for a new device (keep them on the device, see DeviceSecretStore). */
  newDeviceSecret() {
    return FaceProof.#run(this, 'newDeviceSecret', () => ({ args: [] }));
  }

  /** Every face: [{score, box:[x0,y0,x1,y1], keypoints:[[x,y]×6]}]. `detector`: 'front' (selfie) or 'back' (ID photo). */
  detect(frame, options) {
    return FaceProof.#run(this, 'detect', (limits) => {
      const f = frameArg(frame, 'frame', limits.maxImageSide);
      const { detector } = optionsArg(options, 'options', { detector: 'string' });
      return { args: [f.data, f.width, f.height, detector], transfer: [f.data.buffer] };
    });
  }

  /** Quality of a live frame with reasons the UI can show (the reasons are listed in index.d.ts). */
  analyze(frame, options) {
    return FaceProof.#frameCall(this, 'analyze', frame, options, ANALYZE_OPTIONS);
  }

  /** 192-d L2-normalised embedding of the one face (stays on the device: use it for local checks only). */
  embed(frame, options) {
    return FaceProof.#frameCall(this, 'embed', frame, options, EMBED_OPTIONS);
  }

  /** Pipeline run with per-stage times: {face, facesSeen, times:{detect,landmarks,align,embed}}. */
  template(frame, options) {
    return FaceProof.#frameCall(this, 'template', frame, options, EMBED_OPTIONS);
  }

  /** ID photo vs selfie: {score, threshold, samePerson}. */
  compare(idPhoto, selfie, options) {
    return FaceProof.#run(this, 'compare', (limits) => {
      const a = frameArg(idPhoto, 'ID photo', limits.maxImageSide);
      const b = frameArg(selfie, 'selfie', limits.maxImageSide);
      const { idDetector = 'back', selfieDetector = 'front' } = optionsArg(options, 'options', { idDetector: 'string', selfieDetector: 'string' });
      return {
        args: [a.data, a.width, a.height, { detector: idDetector, selection: 'largest' }, b.data, b.width, b.height, { detector: selfieDetector }],
        transfer: [a.data.buffer, b.data.buffer],
      };
    });
  }

  /** Keep this frame's face (exactly one) for enroll/prove. */
  capture(frame, options) {
    return FaceProof.#frameCall(this, 'capture', frame, options, EMBED_OPTIONS);
  }

  clearCaptures() {
    return FaceProof.#run(this, 'clearCaptures', () => ({ args: [] }));
  }

  /**
   * Captured faces → {reference: Uint8Array, publicKey: Uint8Array} to send to the server.
   * `evaluate(blinded)` sends the blinded lock inputs to the relying party and resolves to its
   * evaluation (a Uint8Array as long as `blinded`).
   */
  enroll(args) {
    return FaceProof.#run(this, 'enrollStart', () => {
      objectArg(args, 'enroll arguments {deviceSecret, rpId, epoch?, evaluate}');
      const { deviceSecret, rpId, epoch = 1, evaluate } = args;
      const secret = bytesArg(deviceSecret, 'deviceSecret', { exact: 32 }).slice();
      const rp = rpIdArg(rpId, 'rpId');
      if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) {
        throw invalid(`epoch must be an integer from 0 to 2^32-1, not ${describe(epoch)}`);
      }
      evaluateArg(evaluate);
      return { args: [secret, rp, epoch], transfer: [secret.buffer], evaluate, finish: 'enrollFinish' };
    });
  }

  /**
   * Start the liveness prompts chosen by the server's challenge: {prompts, step, current, done,
   * passed, failure, passive, needsEmbedding}. The frames that complete prompts also go through
   * the passive anti-spoofing check (failure PRESENTATION_ATTACK; `passive`: 'notRun' without
   * its models, 'failed', 'passed').
   */
  startLiveness(challenge) {
    return FaceProof.#run(this, 'startLiveness', () => ({ args: [challengeArg(challenge, 'challenge')] }));
  }

  /** Feed a camera frame to the liveness run (timeMs: performance.now() or the video time). */
  livenessFrame(frame, timeMs) {
    return FaceProof.#run(this, 'livenessFrame', (limits) => {
      const t = timeMs === undefined ? performance.now() : timeMs;
      if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
        throw invalid(`timeMs must be a finite non-negative number of milliseconds, not ${describe(t)}`);
      }
      const f = frameArg(frame, 'frame', limits.maxImageSide);
      return { args: [f.data, f.width, f.height, t], transfer: [f.data.buffer] };
    });
  }

  /**
   * Captured live faces + server challenge → proof bytes (FACE_MISMATCH if the face does not
   * open the key). The reference and the challenge are checked first (CHALLENGE_EXPIRED,
   * WRONG_RP_ID, REFERENCE_DECRYPT), then the liveness run for this challenge
   * (`requireLiveness`, default true: LIVENESS_FAILED without a passed run, prompts and passive
   * anti-spoofing check both); its outcome is signed in. `evaluate(blinded)` as for `enroll`.
   */
  prove(args) {
    return FaceProof.#run(this, 'proveStart', (limits) => {
      objectArg(args, 'prove arguments {deviceSecret, reference, challenge, evaluate}');
      const { deviceSecret, reference, challenge, evaluate, requireLiveness = true } = args;
      const secret = bytesArg(deviceSecret, 'deviceSecret', { exact: 32 }).slice();
      const ref = bytesArg(reference, 'reference', { max: limits.maxReferenceBytes }).slice();
      const ch = challengeArg(challenge, 'challenge');
      evaluateArg(evaluate);
      if (typeof requireLiveness !== 'boolean') throw invalid(`requireLiveness must be true or false (left out: true), not ${describe(requireLiveness)}`);
      return { args: [secret, ref, ch, Date.now(), requireLiveness], transfer: [secret.buffer, ref.buffer], evaluate, finish: 'proveFinish' };
    });
  }

  /**
   * Stop the worker and free its memory. Calls still pending reject, and every later call
   * rejects, with code TERMINATED. Resolves once done; calling it again does nothing.
   */
  terminate() {
    try {
      if (FaceProof.#created(this)) this.#transport.terminate();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(new FaceproofError(`terminate failed: ${e && e.message}`, 'WORKER'));
    }
  }

  static #created(self) {
    return self !== null && typeof self === 'object' && #transport in self && !!self.#transport;
  }

  static #frameCall(self, method, frame, options, types) {
    return FaceProof.#run(self, method, (limits) => {
      const f = frameArg(frame, 'frame', limits.maxImageSide);
      const o = optionsArg(options, 'options', types);
      return { args: [f.data, f.width, f.height, o], transfer: [f.data.buffer] };
    });
  }
}
