// The browser half of tests/e2e/api-fuzz.mjs: runs in the page, against the package's
// index.js. Each check returns {name, ok, detail}; the Node side prints them and fails the run
// on any failure.
import { FaceProof, FaceproofError, DeviceSecretStore, imageDataFrom } from '/pkg/index.js';
import initWasm, * as wasm from '/pkg/faceproof_wasm.js';
import { makeRandom, randomValue } from '/tests/e2e/fuzz-values.js';

// Every code a FaceProof call may reject with before terminate() (INTERNAL and WORKER are not among them)
const CODES = new Set(['BAD_IMAGE_SIZE', 'IMAGE_DECODE', 'MODEL_LOAD', 'INFERENCE', 'MODEL_NOT_LOADED', 'NO_FACE',
  'MULTIPLE_FACES', 'INVALID_ARGUMENT', 'MALFORMED_REFERENCE', 'REFERENCE_DECRYPT', 'UNSUPPORTED_VERSION', 'MODEL_MISMATCH',
  'MALFORMED_EVALUATION', 'INVALID_PUBLIC_KEY', 'FACE_MISMATCH', 'MALFORMED_PROOF', 'RANDOMNESS', 'CHALLENGE_EXPIRED',
  'WRONG_RP_ID', 'LIVENESS_FAILED', 'EVALUATION_FAILED']);
const ARGUMENT_CODES = new Set(['INVALID_ARGUMENT', 'BAD_IMAGE_SIZE']);

const TIMEOUT = Symbol('timeout');
const within = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(() => r(TIMEOUT), ms))]);
const show = (e) => (e === TIMEOUT ? 'still pending' : e instanceof Error ? `${e.constructor.name}${e.code ? ` [${e.code}]` : ''}: ${e.message}` : `resolved ${typeof e}`);

/** Calls `fn`; the outcome: a synchronous throw, a value that is no Promise, or how the Promise settled (or not within `ms`). */
async function outcome(fn, ms = 60_000) {
  let p;
  try {
    p = fn();
  } catch (e) {
    return { sync: e };
  }
  if (!p || typeof p.then !== 'function') return { notPromise: p };
  const r = await within(p.then((value) => ({ value }), (error) => ({ error })), ms);
  return r === TIMEOUT ? { pending: true } : r;
}

const describeOutcome = (o) => (o.sync ? `threw synchronously ${show(o.sync)}` : 'notPromise' in o ? 'returned no Promise'
  : o.pending ? 'still pending' : o.error ? `rejected ${show(o.error)}` : 'resolved');

/** The call rejects with a FaceproofError (the package's class) whose code is in `codes`. */
async function rejectsWith(fn, codes, ms) {
  const o = await outcome(fn, ms);
  const ok = !!o.error && o.error instanceof FaceproofError && codes.has(o.error.code);
  return { ok, detail: describeOutcome(o), error: o.error };
}

async function loadImage(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  return imageDataFrom(img);
}

// What each parameter accepts (the documented types), to know when an argument error is the only right answer
const TypedArray = Object.getPrototypeOf(Uint8Array.prototype);
const intrinsic = (name, v) => Object.getOwnPropertyDescriptor(TypedArray, name).get.call(v);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isBytes = (v, max, exact) => intrinsic(Symbol.toStringTag, v) === 'Uint8Array'
  && intrinsic('byteLength', v) <= max && (exact === undefined || intrinsic('byteLength', v) === exact);
const isRpId = (v) => typeof v === 'string' && /^[\x21-\x7e]{1,255}$/.test(v);
const isChallenge = (v) => isObject(v) && isRpId(v.rpId) && typeof v.nonce === 'string' && /^[0-9a-fA-F]{64}$/.test(v.nonce)
  && Number.isSafeInteger(v.expiresAt) && v.expiresAt >= 0;
const isFrame = (v) => {
  if (!isObject(v)) return false;
  const { data, width, height } = v;
  const tag = intrinsic(Symbol.toStringTag, data);
  return (tag === 'Uint8Array' || tag === 'Uint8ClampedArray') && Number.isInteger(width) && Number.isInteger(height)
    && width > 0 && height > 0 && width <= 8192 && height <= 8192 && intrinsic('byteLength', data) === width * height * 4
    && intrinsic('buffer', data).byteLength > 0;
};
const isOptions = (types) => (v) => v === undefined || (isObject(v) && Object.entries(types).every(([k, t]) => v[k] === undefined || typeof v[k] === t));
const EMBED = { detector: 'string', flip: 'boolean', selection: 'string', reference: 'boolean' };

function blankFrame(w, h) {
  return { data: new Uint8ClampedArray(w * h * 4).fill(128), width: w, height: h };
}

export async function run({ seed, calls, limits }) {
  const results = [];
  const record = (name, r) => {
    results.push({ name, ok: r.ok, detail: r.detail });
    console.log(`check: ${r.ok ? 'ok  ' : 'FAIL'} ${name}${r.ok ? '' : `\n     ${String(r.detail).split('\n').join('\n     ')}`}`);
  };
  const rng = makeRandom(seed);
  const obama = await loadImage('/tests/data/portraits/obama.jpg');
  const obama2 = await loadImage('/tests/data/portraits/obama2.jpg');

  // --- create(): bad options reject INVALID_ARGUMENT; a bad wasmUrl rejects WASM_LOAD naming the URL ---
  for (const [label, options] of [['5', 5], ['"x"', 'x'], ['null', null], ['{models: 5}', { models: 5 }],
    ['{models: {"unknown.onnx": "/x"}}', { models: { 'unknown.onnx': '/x' } }], ['{wasmUrl: 42}', { wasmUrl: 42 }],
    ['{threads: 0}', { threads: 0 }], ['{threads: 1.5}', { threads: 1.5 }], ['{threads: "two"}', { threads: 'two' }],
    ['{onProgress: "no"}', { onProgress: 'no' }], ['{worker: {}}', { worker: {} }], ['{antispoof: "no"}', { antispoof: 'no' }],
    ['{antispoof: false, models: {"antispoof_2.7_80.onnx": "/x"}}', { antispoof: false, models: { 'antispoof_2.7_80.onnx': '/x' } }]]) {
    record(`create(${label}) rejects INVALID_ARGUMENT`, await rejectsWith(() => FaceProof.create(options), new Set(['INVALID_ARGUMENT'])));
  }
  {
    const r = await rejectsWith(() => FaceProof.create({ wasmUrl: '/no-such-module.wasm' }), new Set(['WASM_LOAD', 'MODEL_LOAD']));
    r.ok = r.ok && r.error.message.includes('/no-such-module.wasm');
    record('create({wasmUrl: "/no-such-module.wasm"}) rejects WASM_LOAD (or MODEL_LOAD) naming the URL', r);
  }

  const fp = await FaceProof.create();

  // --- the specific cases: synchronous throws, the empty frame, compare's image, the threshold ---
  record('embed(null) returns a rejected Promise (INVALID_ARGUMENT), no synchronous throw',
    await rejectsWith(() => fp.embed(null), new Set(['INVALID_ARGUMENT'])));
  {
    const r = await rejectsWith(() => fp.embed({ data: new Uint8Array(0), width: 0, height: 0 }), new Set(['BAD_IMAGE_SIZE']));
    r.ok = r.ok && /empty/.test(r.error.message) && !/does not match/.test(r.error.message);
    record('an empty frame rejects BAD_IMAGE_SIZE saying the frame is empty', r);
  }
  record('a frame whose bytes do not fit its sizes rejects BAD_IMAGE_SIZE',
    await rejectsWith(() => fp.template({ data: new Uint8Array(15), width: 2, height: 2 }), new Set(['BAD_IMAGE_SIZE'])));
  record('a frame {length: 2**31}-like data rejects INVALID_ARGUMENT',
    await rejectsWith(() => fp.template({ data: { length: 2 ** 31 }, width: 2, height: 2 }), new Set(['INVALID_ARGUMENT'])));
  record('the worker\'s errors keep their code: a blank frame is NO_FACE',
    await rejectsWith(() => fp.template(blankFrame(64, 64)), new Set(['NO_FACE'])));
  {
    const a = await rejectsWith(() => fp.compare(blankFrame(96, 96), obama), new Set(['NO_FACE']));
    a.ok = a.ok && /ID photo/.test(a.error.message);
    record('compare: NO_FACE in the ID photo says so', a);
    const b = await rejectsWith(() => fp.compare(obama, blankFrame(96, 96)), new Set(['NO_FACE']));
    b.ok = b.ok && /selfie/.test(b.error.message);
    record('compare: NO_FACE in the selfie says so', b);
  }
  {
    const o = await outcome(() => fp.compare(obama, obama2));
    const c = o.value;
    record('compare gives the threshold as 0.4 (not 0.4000000059604645) and the same person',
      { ok: !!c && c.threshold === 0.4 && c.samePerson === true, detail: c ? JSON.stringify(c) : describeOutcome(o) });
  }
  record('DeviceSecretStore.put with a 5-byte secret rejects INVALID_ARGUMENT',
    await rejectsWith(() => DeviceSecretStore.put('bank.example:ada', new Uint8Array(5)), new Set(['INVALID_ARGUMENT'])));
  record('DeviceSecretStore.get(42) rejects INVALID_ARGUMENT',
    await rejectsWith(() => DeviceSecretStore.get(42), new Set(['INVALID_ARGUMENT'])));

  // --- fuzz: every method, random values of every type ---
  const challenge = { rpId: 'bank.example', nonce: 'ab'.repeat(32), expiresAt: Date.now() + 60_000 };
  const evaluate = async (blinded) => new Uint8Array(blinded.length);
  const frames = [blankFrame(8, 8), blankFrame(1, 1), { data: new Uint8Array(0), width: 0, height: 0 }, { data: new Uint8Array(16), width: 2, height: 2 },
    { data: new Uint8Array(15), width: 2, height: 2 }, { data: new Uint8Array(16), width: 2.5, height: 1.6 }, { data: new Uint8Array(16), width: -2, height: -2 },
    { data: new Float32Array(16), width: 2, height: 2 }, { data: [0, 0, 0, 0], width: 1, height: 1 }, { data: { length: 2 ** 31 }, width: 2, height: 2 },
    { data: new Uint8Array(4), width: NaN, height: 1 }, { data: new Uint8Array(4), width: '1', height: '1' }, { width: 1, height: 1 },
    { data: new Uint8Array(4 * 8193), width: 8193, height: 1 }, new ImageData(4, 4)];
  const PARAMS = {
    frame: { valid: isFrame, extra: frames },
    embedOptions: { valid: isOptions(EMBED), extra: [undefined, {}, { detector: 'back' }, { detector: 'sideways' }, { flip: 'yes' }, { selection: 5 }] },
    analyzeOptions: { valid: isOptions({ ...EMBED, track: 'boolean' }), extra: [undefined, { track: true }, { track: 'true' }] },
    detectOptions: { valid: isOptions({ detector: 'string' }), extra: [undefined, { detector: 'front' }, { detector: 1 }] },
    compareOptions: { valid: isOptions({ idDetector: 'string', selfieDetector: 'string' }), extra: [undefined, { idDetector: 'front' }, { selfieDetector: 7 }] },
    challenge: { valid: isChallenge, extra: [challenge, { ...challenge, nonce: 'xyz' }, { ...challenge, expiresAt: -1 }, { ...challenge, rpId: '' }] },
    timeMs: { valid: (v) => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0), extra: [undefined, 0, 16.5, -1, NaN] },
    enrollArgs: {
      valid: (v) => isObject(v) && isBytes(v.deviceSecret, 32, 32) && isRpId(v.rpId) && typeof v.evaluate === 'function'
        && (v.epoch === undefined || (Number.isInteger(v.epoch) && v.epoch >= 0 && v.epoch <= 0xffffffff)),
      extra: [{ deviceSecret: new Uint8Array(32), rpId: 'bank.example', evaluate }, { deviceSecret: new Uint8Array(32), rpId: 'bank.example' },
        { deviceSecret: new Uint8Array(31), rpId: 'bank.example', evaluate }, { deviceSecret: new Uint8Array(32), rpId: 5, evaluate },
        { deviceSecret: new Uint8Array(32), rpId: 'bank.example', epoch: -1, evaluate }, { deviceSecret: new Uint8Array(32), rpId: 'bank.example', evaluate: 'x' }, {}],
    },
    proveArgs: {
      valid: (v) => isObject(v) && isBytes(v.deviceSecret, 32, 32) && isBytes(v.reference, limits.maxReferenceBytes) && isChallenge(v.challenge)
        && typeof v.evaluate === 'function' && (v.requireLiveness === undefined || typeof v.requireLiveness === 'boolean'),
      extra: [{ deviceSecret: new Uint8Array(32), reference: new Uint8Array(100), challenge, evaluate },
        { deviceSecret: new Uint8Array(32), reference: new Uint8Array(100), challenge, evaluate, requireLiveness: 'true' },
        { deviceSecret: new Uint8Array(32), reference: new Uint8Array(limits.maxReferenceBytes + 1), challenge, evaluate },
        { deviceSecret: new Uint8Array(32), reference: { length: 2 ** 26 }, challenge, evaluate }, { deviceSecret: 'ab'.repeat(32), reference: new Uint8Array(9), challenge, evaluate }],
    },
  };
  const validArg = (p, v) => {
    try {
      return PARAMS[p].valid(v);
    } catch {
      return false;
    }
  };
  const methods = [
    ['detect', ['frame', 'detectOptions']], ['analyze', ['frame', 'analyzeOptions']], ['embed', ['frame', 'embedOptions']],
    ['template', ['frame', 'embedOptions']], ['compare', ['frame', 'frame', 'compareOptions']], ['capture', ['frame', 'embedOptions']],
    ['clearCaptures', []], ['newDeviceSecret', []], ['enroll', ['enrollArgs']], ['startLiveness', ['challenge']],
    ['livenessFrame', ['frame', 'timeMs']], ['prove', ['proveArgs']],
  ];
  const codes = {};
  const wrong = [];
  for (let i = 0; i < calls; i++) {
    const [method, params] = methods[rng.int(methods.length)];
    // the real argument lists, and shorter or longer ones
    const args = params.map((p) => randomValue(rng, limits, PARAMS[p].extra));
    const bad = params.some((p, k) => !validArg(p, args[k]));
    const o = await outcome(() => fp[method](...args), 30_000);
    if (o.error) codes[o.error.code || o.error.name] = (codes[o.error.code || o.error.name] || 0) + 1;
    let problem = null;
    if (o.sync || 'notPromise' in o || o.pending) problem = describeOutcome(o);
    else if (o.error && !(o.error instanceof FaceproofError && CODES.has(o.error.code))) problem = describeOutcome(o);
    else if (o.error && bad && !ARGUMENT_CODES.has(o.error.code)) problem = `${describeOutcome(o)} for an invalid argument`;
    else if (!o.error && bad) problem = 'resolved for an invalid argument';
    if (problem) wrong.push(`${method}(${params.join(', ')}): ${problem}`);
  }
  record(`fuzz: ${calls} calls with random arguments all reject with a FaceproofError and a known code (seed ${seed}; ${JSON.stringify(codes)})`,
    { ok: wrong.length === 0, detail: wrong.slice(0, 8).join('\n') });

  // --- the raw wasm bindings (FaceEngine) check their arguments too: coded errors, no trap ---
  {
    await initWasm();
    const engine = new wasm.FaceEngine();
    const plain = (v) => {
      try {
        return !(v && typeof v === 'object') || [Object.prototype, Array.prototype, Uint8Array.prototype, Uint8ClampedArray.prototype,
          ...[Int8Array, Float32Array, Float64Array, Uint16Array, Int32Array, BigInt64Array].map((c) => c.prototype)].includes(Object.getPrototypeOf(v));
      } catch {
        return false;
      }
    };
    const RAW = {
      rgba: [new Uint8Array(16), new Uint8ClampedArray(64), new Uint8Array(0)], side: [2, 4, 0, 1], detector: [undefined, 'front', 'back'], options: [undefined, {}, { detector: 'back' }],
      challenge: [challenge], time: [0, 16], secret: [new Uint8Array(32)], rpId: ['bank.example'], epoch: [1], reference: [new Uint8Array(100)],
      now: [Date.now()], live: [true, false, undefined], evaluated: [new Uint8Array(32)],
    };
    // (loadModel is not among them: its bytes are a model file for the engine's parser, whose
    // robustness on corrupt models is a test of its own)
    const rawMethods = [
      ['detect', ['rgba', 'side', 'side', 'detector']], ['analyze', ['rgba', 'side', 'side', 'options']],
      ['embed', ['rgba', 'side', 'side', 'options']], ['template', ['rgba', 'side', 'side', 'options']],
      ['compare', ['rgba', 'side', 'side', 'options', 'rgba', 'side', 'side', 'options']], ['capture', ['rgba', 'side', 'side', 'options']],
      ['startLiveness', ['challenge']], ['livenessFrame', ['rgba', 'side', 'side', 'time']], ['clearCaptures', []],
      ['enrollStart', ['secret', 'rpId', 'epoch']], ['enrollFinish', ['evaluated']], ['proveStart', ['secret', 'reference', 'challenge', 'now', 'live']],
      ['proveFinish', ['evaluated']],
    ];
    const rawWrong = [];
    const rawCodes = {};
    for (let i = 0; i < calls; i++) {
      const [method, params] = rawMethods[rng.int(rawMethods.length)];
      let args;
      do args = params.map((p) => randomValue(rng, limits, RAW[p])); while (!args.every(plain));
      const t0 = performance.now();
      try {
        engine[method](...args);
      } catch (e) {
        rawCodes[e && e.code || e && e.name] = (rawCodes[e && e.code || e && e.name] || 0) + 1;
        if (!(e && e.name === 'FaceproofError' && CODES.has(e.code))) rawWrong.push(`${method}: ${show(e)}`);
      }
      const ms = performance.now() - t0;
      if (ms > 10_000) rawWrong.push(`${method}: took ${Math.round(ms)} ms`);
    }
    record(`the raw FaceEngine bindings answer ${calls} calls with random arguments with coded errors, no trap (${JSON.stringify(rawCodes)})`,
      { ok: rawWrong.length === 0, detail: rawWrong.slice(0, 8).join('\n') });
  }

  // --- enroll and prove through a relying party's evaluation (the module's evaluateBatch here),
  // the proof verified by the module's verifyProof ---
  {
    const key = wasm.newOprfKey();
    const rpEvaluate = async (blinded) => wasm.evaluateBatch(key, blinded, blinded.length / 32);
    await fp.clearCaptures();
    const captured = await outcome(() => fp.capture(obama));
    const deviceSecret = await fp.newDeviceSecret();
    const enrolled = await outcome(() => fp.enroll({ deviceSecret, rpId: 'bank.example', evaluate: rpEvaluate }));
    const e = enrolled.value;
    record('enroll() with the relying party\'s evaluation gives a reference and a 32-byte public key',
      { ok: !!e && e.reference instanceof Uint8Array && e.publicKey instanceof Uint8Array && e.publicKey.length === 32,
        detail: `capture: ${captured.value ? captured.value.captured : describeOutcome(captured)}; enroll: ${describeOutcome(enrolled)}` });
    if (e) {
      const ch = { rpId: 'bank.example', nonce: Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join(''), expiresAt: Date.now() + 60_000 };
      await fp.capture(obama2);
      record('prove() without a liveness run, requireLiveness left out: LIVENESS_FAILED before any evaluation',
        await rejectsWith(() => fp.prove({ deviceSecret, reference: e.reference, challenge: ch, evaluate: () => { throw new Error('evaluated'); } }), new Set(['LIVENESS_FAILED'])));
      const failing = await rejectsWith(() => fp.prove({ deviceSecret, reference: e.reference, challenge: ch, requireLiveness: false,
        evaluate: async () => { throw Object.assign(new Error('too many attempts'), { code: 'RATE_LIMITED' }); } }), new Set(['RATE_LIMITED']));
      record('prove(): an error from evaluate keeps its code', failing);
      const short = await rejectsWith(() => fp.prove({ deviceSecret, reference: e.reference, challenge: ch, requireLiveness: false, evaluate: async () => new Uint8Array(5) }),
        new Set(['MALFORMED_EVALUATION']));
      record('prove(): an evaluation of the wrong length is MALFORMED_EVALUATION', short);
      const proved = await outcome(() => fp.prove({ deviceSecret, reference: e.reference, challenge: ch, evaluate: rpEvaluate, requireLiveness: false }));
      let verified = null;
      let liveness = null;
      try {
        verified = proved.value && wasm.verifyProof(proved.value, ch, e.publicKey, e.reference, Date.now(), false);
        wasm.verifyProof(proved.value, ch, e.publicKey, e.reference, Date.now());
      } catch (err) {
        liveness = err.code;
      }
      record('prove() with requireLiveness: false gives a proof that verifies (and fails where liveness is required)',
        { ok: !!verified && verified.ok === true && liveness === 'LIVENESS_FAILED', detail: `${describeOutcome(proved)}; ${JSON.stringify(verified)}; required: ${liveness}` });
    }
  }

  // --- the engine still works ---
  {
    const o = await outcome(() => fp.template(obama));
    record('after the fuzz, template() on obama.jpg finds the one face',
      { ok: !!o.value && o.value.facesSeen === 1 && o.value.face.score > 0.5, detail: o.value ? JSON.stringify(o.value.face.box) : describeOutcome(o) });
  }

  // --- terminate(): pending calls and every later call reject TERMINATED ---
  {
    const pending = outcome(() => fp.template(obama), 10_000);
    const t = fp.terminate();
    record('terminate() returns a Promise', { ok: !!t && typeof t.then === 'function', detail: typeof t });
    const o = await pending;
    record('a call pending at terminate() rejects TERMINATED',
      { ok: !!o.error && o.error instanceof FaceproofError && o.error.code === 'TERMINATED', detail: describeOutcome(o) });
    const after = [];
    for (const [method, params] of methods) {
      const args = params.map((p) => PARAMS[p].extra[0]);
      const a = await outcome(() => fp[method](...args), 10_000);
      if (!(a.error instanceof FaceproofError && a.error.code === 'TERMINATED')) after.push(`${method}: ${describeOutcome(a)}`);
    }
    record('every method after terminate() rejects TERMINATED', { ok: after.length === 0, detail: after.join('\n') });
    const again = await outcome(() => fp.terminate(), 5000);
    record('terminate() twice is harmless', { ok: !again.sync && !again.error, detail: describeOutcome(again) });
  }
  return results;
}
