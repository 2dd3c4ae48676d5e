// faceproof: face verification for e-KYC login inside the browser.
// Promise-based API over a Web Worker that owns the wasm module and the models.
//
//   import { FaceProof } from 'faceproof';
//   const fp = await FaceProof.create({ onProgress: (p) => console.log(p) });
//   const { faces } = await fp.analyze(imageData);
//
// Models load from URLs next to this module (`new URL('./models/…', import.meta.url)`), so
// bundlers (Vite, webpack 5) copy them without configuration; pass `models` to override.

export const MODEL_FILES = Object.freeze([
  'blazeface_front_128.onnx',
  'blazeface_back_256.onnx',
  'facemesh_468.onnx',
  'mobilefacenet_192.onnx',
]);

/** Default model URLs (literal `new URL` calls so that bundlers can see them). */
export function defaultModelUrls() {
  return {
    'blazeface_front_128.onnx': new URL('./models/blazeface_front_128.onnx', import.meta.url).href,
    'blazeface_back_256.onnx': new URL('./models/blazeface_back_256.onnx', import.meta.url).href,
    'facemesh_468.onnx': new URL('./models/facemesh_468.onnx', import.meta.url).href,
    'mobilefacenet_192.onnx': new URL('./models/mobilefacenet_192.onnx', import.meta.url).href,
  };
}

/** Every error from faceproof: `code` is stable (NO_FACE, MULTIPLE_FACES, FACE_MISMATCH, …). */
export class FaceproofError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'FaceproofError';
    this.code = code;
  }
}

/** Accepts ImageData or {data, width, height} (RGBA bytes); returns a copy we may transfer. */
function toFrame(frame) {
  if (!frame || typeof frame.width !== 'number' || typeof frame.height !== 'number' || !frame.data) {
    throw new FaceproofError('expected ImageData or {data, width, height}', 'INVALID_ARGUMENT');
  }
  const src = frame.data;
  const data = new Uint8Array(src.buffer ? src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength) : src);
  return { data, width: frame.width, height: frame.height };
}

/** Draw an <img>, <video>, <canvas> or ImageBitmap into RGBA ImageData (EXIF orientation applied by the browser). */
export function imageDataFrom(source, maxSide = 1280) {
  const w0 = source.videoWidth || source.naturalWidth || source.width;
  const h0 = source.videoHeight || source.naturalHeight || source.height;
  const s = Math.min(1, maxSide / Math.max(w0, h0));
  const w = Math.max(1, Math.round(w0 * s));
  const h = Math.max(1, Math.round(h0 * s));
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(w, h) : Object.assign(document.createElement('canvas'), { width: w, height: h });
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, w, h);
  return ctx.getImageData(0, 0, w, h);
}

class WorkerTransport {
  constructor(worker, onProgress) {
    this.worker = worker;
    this.next = 1;
    this.pending = new Map();
    worker.onmessage = (ev) => {
      const m = ev.data;
      if (m.op === 'progress') {
        if (onProgress) onProgress({ file: m.file, loaded: m.loaded, total: m.total });
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new FaceproofError(m.error.message, m.error.code));
      else p.resolve(m.result);
    };
    worker.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new FaceproofError(e.message || 'worker failed', 'WORKER'));
      this.pending.clear();
    };
  }
  send(msg, transfer = []) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...msg }, transfer);
    });
  }
  terminate() {
    this.worker.terminate();
  }
}

export { DeviceSecretStore } from './device-secret.js';

/** Models that `create()` does not load: fetched and loaded by the worker when a call first needs them. */
const LAZY_MODELS = Object.freeze(['blazeface_back_256.onnx']);

export class FaceProof {
  constructor(transport, timings) {
    this.transport = transport;
    /** Cold-start breakdown {wasmMs, fetchMs, loadMs}, which module runs (simd: 'relaxed', 'simd128' or 'custom' for wasmUrl) and on how many threads. */
    this.timings = timings;
  }

  /**
   * Start the worker, compile the wasm module and load the models.
   * `threads: 2` uses the threads build where the page is cross-origin isolated (and one thread elsewhere).
   * @param {{models?: Record<string,string>, wasmUrl?: string, threads?: number, onProgress?: (p:{file:string,loaded:number,total:number})=>void, worker?: Worker}} [options]
   */
  static async create(options = {}) {
    const all = { ...defaultModelUrls(), ...(options.models || {}) };
    // what verification needs now; the ID-photo detector on first use (`compare`, `detector: 'back'`)
    const models = Object.fromEntries(Object.entries(all).filter(([name]) => !LAZY_MODELS.includes(name)));
    const lazyModels = Object.fromEntries(Object.entries(all).filter(([name]) => LAZY_MODELS.includes(name)));
    const worker = options.worker || new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const transport = new WorkerTransport(worker, options.onProgress);
    try {
      const timings = await transport.send({ op: 'init', models, lazyModels, wasmUrl: options.wasmUrl, threads: options.threads });
      return new FaceProof(transport, timings);
    } catch (e) {
      transport.terminate();
      throw e;
    }
  }

  /** 32 random bytes for a new device (keep them on the device, see DeviceSecretStore). */
  newDeviceSecret() {
    return this.transport.send({ op: 'newDeviceSecret' });
  }

  call(method, args, transfer = []) {
    return this.transport.send({ op: 'call', method, args }, transfer);
  }

  callFrame(method, frame, extra = []) {
    const f = toFrame(frame);
    return this.call(method, [f.data, f.width, f.height, ...extra], [f.data.buffer]);
  }

  /** Every face: [{score, box:[x0,y0,x1,y1], keypoints:[[x,y]×6]}]. `detector`: 'front' (selfie) or 'back' (ID photo). */
  detect(frame, { detector } = {}) {
    return this.callFrame('detect', frame, [detector]);
  }

  /** Quality of a live frame with reasons the UI can show (see README). */
  analyze(frame, options = {}) {
    return this.callFrame('analyze', frame, [options]);
  }

  /** 192-d L2-normalised embedding of the one face (stays on the device: use it for local checks only). */
  embed(frame, options = {}) {
    return this.callFrame('embed', frame, [options]);
  }

  /** Pipeline run with per-stage times: {face, facesSeen, times:{detect,landmarks,align,embed}}. */
  template(frame, options = {}) {
    return this.callFrame('template', frame, [options]);
  }

  /** ID photo vs selfie: {score, threshold, samePerson}. */
  compare(idPhoto, selfie, { idDetector = 'back', selfieDetector = 'front' } = {}) {
    const a = toFrame(idPhoto);
    const b = toFrame(selfie);
    return this.call('compare', [a.data, a.width, a.height, { detector: idDetector, selection: 'largest' }, b.data, b.width, b.height, { detector: selfieDetector }], [a.data.buffer, b.data.buffer]);
  }

  /** Keep this frame's face (exactly one) for enroll/prove. */
  capture(frame, options = {}) {
    return this.callFrame('capture', frame, [options]);
  }

  clearCaptures() {
    return this.call('clearCaptures', []);
  }

  /** Captured faces → {reference: Uint8Array, publicKey: Uint8Array} to send to the server. */
  enroll({ deviceSecret, rpId, epoch = 1 }) {
    return this.call('enroll', [deviceSecret, rpId, epoch]);
  }

  /** Start the liveness prompts chosen by the server's challenge: {prompts, step, current, done, passed, failure}. */
  startLiveness(challenge) {
    return this.call('startLiveness', [challenge]);
  }

  /** Feed a camera frame to the liveness run (timeMs: performance.now() or the video time). */
  livenessFrame(frame, timeMs = performance.now()) {
    return this.callFrame('livenessFrame', frame, [timeMs]);
  }

  /** Captured live faces + server challenge → proof bytes (throws FACE_MISMATCH if the face does not open the key). The liveness outcome for this challenge is signed in. */
  prove({ deviceSecret, reference, challenge }) {
    return this.call('prove', [deviceSecret, reference, challenge]);
  }

  terminate() {
    this.transport.terminate();
  }
}
