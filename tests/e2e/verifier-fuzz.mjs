// faceproof/verifier takes every argument with one type and answers anything else with a
// FaceproofError (code INVALID_ARGUMENT), never a coercion that opens a login, never a trap of
// the wasm module: the attacks on the Node verifier (`requireLiveness: "true"` or left out,
// `now` undefined/NaN/null/"soon"/-5 on an expired challenge, `new RelyingParty(0)`,
// `verifyProof({length: -1})`, `{length: 2**31}`, `{length: 2**26}`), then a few thousand calls
// of every public function with random JS values of every type (tests/e2e/fuzz-values.js), on the
// package entry and on the raw wasm bindings, checking the codes, that the module's memory did
// not grow, and that real proofs (made by the CLI on real faces) still verify afterwards.
// Run by scripts/test.sh after scripts/build-pkg.sh and `cargo build --release -p faceproof-cli`:
//   node tests/e2e/verifier-fuzz.mjs            (FUZZ_SEED=n replays a run, FUZZ_CALLS=n sets its length)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRandom, randomValue } from './fuzz-values.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
// the module's instance, seen as it is made, for its memory's size
const instances = [];
const RealInstance = WebAssembly.Instance;
WebAssembly.Instance = new Proxy(RealInstance, { construct: (t, a) => { const i = Reflect.construct(t, a); instances.push(i); return i; } });
const verifier = require(path.join(root, 'pkg/verifier.cjs'));
const raw = require(path.join(root, 'pkg/node/faceproof_verifier.js')); // the wasm-bindgen module under it
WebAssembly.Instance = RealInstance;
assert.equal(instances.length, 1, 'one wasm instance');
const memoryBytes = () => instances[0].exports.memory.buffer.byteLength;
const { RelyingParty, verifyProof, referenceInfo, newDeviceSecret, newOprfKey, evaluateBatch, FaceproofError } = verifier;

const failures = [];
/** Runs one named check; a failure is reported and the others still run. */
function check(name, fn) {
  try {
    fn();
  } catch (e) {
    failures.push(name);
    console.error(`FAIL ${name}\n     ${String(e && e.message).split('\n').join('\n     ')}`);
  }
}

const PROTOCOL_CODES = new Set(['INVALID_ARGUMENT', 'MALFORMED_PROOF', 'MALFORMED_REFERENCE', 'UNSUPPORTED_VERSION', 'MALFORMED_EVALUATION',
  'INVALID_PUBLIC_KEY', 'BAD_SIGNATURE', 'WRONG_PUBLIC_KEY', 'WRONG_RP_ID', 'CHALLENGE_EXPIRED', 'NONCE_REUSED_OR_UNKNOWN',
  'WRONG_REFERENCE', 'LIVENESS_FAILED']);

/** The error `fn` throws (a failure if it returns). */
function thrown(fn) {
  try {
    const r = fn();
    return { returned: r };
  } catch (e) {
    return { error: e };
  }
}

const describeError = (e) => `${e && e.constructor && e.constructor.name}: ${e && e.code ? `[${e.code}] ` : ''}${e && e.message}`;

/** `fn` throws a FaceproofError (the package's class) with `code`. */
function assertCode(fn, code, what) {
  const { error, returned } = thrown(fn);
  assert.ok(error, `${what}: returned ${JSON.stringify(returned)} instead of throwing ${code}`);
  assert.ok(FaceproofError && error instanceof FaceproofError, `${what}: threw ${describeError(error)}, not a FaceproofError`);
  assert.equal(error.code, code, `${what}: ${describeError(error)}`);
}

// --- a real enrollment and real proofs, made by the CLI on real faces ---
const cli = (args) => execFileSync(path.join(root, 'target/release/faceproof'), args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceproof-fuzz-'));
const photo = (n) => path.join(root, 'tests/data/portraits', n);
const secret = 'cd'.repeat(32);
const oprfKey = cli(['oprf-key']);
const refPath = path.join(tmp, 'obama.ref');
const { publicKey } = JSON.parse(cli(['enroll', '--secret', secret, '--rp', 'bank.example', '--oprf-key', oprfKey, '--out', refPath, photo('obama.jpg')]));
const reference = fs.readFileSync(refPath);
const pk = Buffer.from(publicKey, 'hex');
const prove = (img, ch, live) => Buffer.from(cli(['prove', '--secret', secret, '--reference', refPath, '--oprf-key', oprfKey,
  '--challenge', JSON.stringify(ch), ...(live ? ['--assume-live'] : []), photo(img)]), 'base64');

const rp = new RelyingParty('bank.example');
const now = Date.now();
const chA = rp.issueChallenge(now);
const liveA = prove('obama2.jpg', chA, true); // with a passed liveness run
const noLiveA = prove('obama3.jpg', chA, false); // without one
const chB = rp.issueChallenge(now);
const liveB = prove('obama2.jpg', chB, true);
fs.rmSync(tmp, { recursive: true, force: true });

const limits = typeof verifier.limits === 'function' ? verifier.limits() : { maxProofBytes: 461, maxReferenceBytes: 394164, maxLoginElements: 9216, elementBytes: 32 };
check('limits() gives the largest valid proof and reference sizes', () => {
  assert.equal(typeof verifier.limits, 'function', 'no limits() export');
  assert.ok(limits.maxProofBytes >= liveA.length && limits.maxReferenceBytes >= reference.length, JSON.stringify(limits));
  assert.equal(limits.publicKeyBytes, 32);
});
check('the real proofs verify (stateless)', () => {
  assert.equal(verifyProof(liveA, chA, pk, reference, now, true).ok, true);
  assert.equal(verifyProof(noLiveA, chA, pk, reference, now, false).ok, true);
});

// --- requireLiveness: one type, and left out it means required ---
check('requireLiveness "true" / "required" / 1 / null is INVALID_ARGUMENT (verifyProof)', () => {
  for (const v of ['true', 'required', 1, null, 'false', {}]) {
    assertCode(() => verifyProof(noLiveA, chA, pk, reference, now, v), 'INVALID_ARGUMENT', `requireLiveness ${JSON.stringify(v)}`);
  }
});
check('requireLiveness left out means required: a proof without liveness is LIVENESS_FAILED', () => {
  assertCode(() => verifyProof(noLiveA, chA, pk, reference, now), 'LIVENESS_FAILED', 'verifyProof, requireLiveness left out');
  assertCode(() => verifyProof(noLiveA, chA, pk, reference, now, undefined), 'LIVENESS_FAILED', 'verifyProof, requireLiveness undefined');
  assert.equal(verifyProof(liveA, chA, pk, reference, now).ok, true, 'a live proof with requireLiveness left out');
});

// --- now: a non-negative integer, required; never counted as time 0 ---
const expired = { ...chA };
const late = chA.expiresAt + 1;
check('the expired challenge is refused at a real time', () => {
  assertCode(() => verifyProof(liveA, expired, pk, reference, late, true), 'CHALLENGE_EXPIRED', 'now after expiry');
});
check('now undefined / NaN / null / "soon" / -5 is INVALID_ARGUMENT, not time 0 (verifyProof)', () => {
  for (const v of [undefined, NaN, null, 'soon', -5, Infinity, 1.5, String(now), 2 ** 53, -0.5]) {
    assertCode(() => verifyProof(liveA, expired, pk, reference, v, true), 'INVALID_ARGUMENT', `now ${String(v)}`);
  }
});
check('a bad challenge expiry is INVALID_ARGUMENT', () => {
  for (const v of [undefined, NaN, null, '1', -1, 1.5, 2 ** 53]) {
    assertCode(() => verifyProof(liveA, { ...chA, expiresAt: v }, pk, reference, now, true), 'INVALID_ARGUMENT', `expiresAt ${String(v)}`);
  }
  for (const v of [undefined, 'x', chA.nonce.slice(1), chA.nonce + '0', '+f'.repeat(32), 12]) {
    assertCode(() => verifyProof(liveA, { ...chA, nonce: v }, pk, reference, now, true), 'INVALID_ARGUMENT', `nonce ${String(v)}`);
  }
});

// --- RelyingParty: the same rules, and a refused call uses up no nonce ---
check('RelyingParty.verify: bad now / requireLiveness are INVALID_ARGUMENT and use up no nonce; left out is required', () => {
  for (const v of [undefined, NaN, null, 'soon', -5]) {
    assertCode(() => rp.verify(noLiveA, pk, reference, v, false), 'INVALID_ARGUMENT', `rp.verify now ${String(v)}`);
  }
  for (const v of ['true', 'required', 0, null]) {
    assertCode(() => rp.verify(noLiveA, pk, reference, now, v), 'INVALID_ARGUMENT', `rp.verify requireLiveness ${JSON.stringify(v)}`);
  }
  // the nonce is still there: this verification is the one that uses it, and fails on liveness
  assertCode(() => rp.verify(noLiveA, pk, reference, now), 'LIVENESS_FAILED', 'rp.verify, requireLiveness left out');
  assertCode(() => rp.verify(liveA, pk, reference, now, true), 'NONCE_REUSED_OR_UNKNOWN', 'the nonce is used up');
});
check('new RelyingParty(0) / (NaN) / ({}) / (undefined) / bad ttl is INVALID_ARGUMENT', () => {
  for (const v of [0, NaN, {}, undefined, null, '', 'with space', 'x'.repeat(256), Symbol('s'), ['bank.example']]) {
    assertCode(() => new RelyingParty(v), 'INVALID_ARGUMENT', `new RelyingParty(${String(typeof v === 'symbol' ? 'symbol' : JSON.stringify(v))})`);
  }
  for (const ttl of [0, -1, NaN, Infinity, 1.5, '1000', null, {}, 2 ** 53]) {
    assertCode(() => new RelyingParty('bank.example', ttl), 'INVALID_ARGUMENT', `ttlMs ${String(ttl)}`);
  }
});
check('issueChallenge() without nowMs (or with a bad one) is INVALID_ARGUMENT', () => {
  const other = new RelyingParty('other.example', 60_000);
  for (const v of [undefined, NaN, null, 'soon', -5, 1.5]) {
    assertCode(() => other.issueChallenge(v), 'INVALID_ARGUMENT', `issueChallenge(${String(v)})`);
  }
  assertCode(() => new RelyingParty('other.example', Number.MAX_SAFE_INTEGER).issueChallenge(now), 'INVALID_ARGUMENT', 'expiry beyond 2^53');
  const c = other.issueChallenge(now);
  assert.equal(c.expiresAt, now + 60_000);
  other.free();
  assertCode(() => other.issueChallenge(now), 'INVALID_ARGUMENT', 'issueChallenge after free()');
  assertCode(() => RelyingParty.prototype.verify.call({}, liveA, pk, reference, now, true), 'INVALID_ARGUMENT', 'verify on a non-RelyingParty');
});

// --- objects with odd lengths: checked before anything is copied into wasm memory ---
check('verifyProof({length: -1} / {length: 2**31} / {length: 2**26}, …) is INVALID_ARGUMENT and grows no memory', () => {
  const before = memoryBytes();
  for (const odd of [{ length: -1 }, { length: 2 ** 31 }, { length: 2 ** 26 }]) {
    const t0 = performance.now();
    assertCode(() => verifyProof(odd, chA, pk, reference, now, true), 'INVALID_ARGUMENT', `proof {length: ${odd.length}}`);
    assertCode(() => verifyProof(liveA, chA, odd, reference, now, true), 'INVALID_ARGUMENT', `publicKey {length: ${odd.length}}`);
    assertCode(() => verifyProof(liveA, chA, pk, odd, now, true), 'INVALID_ARGUMENT', `reference {length: ${odd.length}}`);
    assertCode(() => rp.verify(odd, pk, reference, now, true), 'INVALID_ARGUMENT', `rp.verify proof {length: ${odd.length}}`);
    assertCode(() => referenceInfo(odd), 'INVALID_ARGUMENT', `referenceInfo({length: ${odd.length}})`);
    console.log(`     {length: ${odd.length}}: refused in ${(performance.now() - t0).toFixed(2)} ms`);
  }
  assertCode(() => verifyProof(new Uint8Array(limits.maxProofBytes + 1), chA, pk, reference, now, true), 'INVALID_ARGUMENT', 'proof one byte over the limit');
  assertCode(() => verifyProof(liveA, chA, pk, new Uint8Array(limits.maxReferenceBytes + 1), now, true), 'INVALID_ARGUMENT', 'reference one byte over the limit');
  assertCode(() => verifyProof(liveA, chA, pk.subarray(1), reference, now, true), 'INVALID_ARGUMENT', '31-byte public key');
  assertCode(() => verifyProof(Array.from(liveA), chA, pk, reference, now, true), 'INVALID_ARGUMENT', 'proof as an array of numbers');
  assertCode(() => verifyProof(liveA.toString('base64'), chA, pk, reference, now, true), 'INVALID_ARGUMENT', 'proof as a string');
  assert.ok(memoryBytes() - before <= 1 << 20, `memory grew by ${memoryBytes() - before} bytes`);
});

// --- the OPRF evaluation: the same rules; a refused call uses up no evaluation ---
const oprf = Buffer.from(oprfKey, 'hex');
// the Ristretto255 base point: a valid blinded element
const G = Buffer.from('e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76', 'hex');
check('evaluateBatch / RelyingParty.evaluate: bad arguments are INVALID_ARGUMENT, odd lengths copy nothing', () => {
  const before = memoryBytes();
  for (const odd of [{ length: -1 }, { length: 2 ** 31 }, { length: 2 ** 26 }, 'ab'.repeat(16), null, undefined, [1, 2]]) {
    assertCode(() => evaluateBatch(odd, G), 'INVALID_ARGUMENT', `evaluateBatch oprfKey ${JSON.stringify(odd)}`);
    assertCode(() => evaluateBatch(oprf, odd), 'INVALID_ARGUMENT', `evaluateBatch blinded ${JSON.stringify(odd)}`);
    assertCode(() => rp.evaluate(chA.nonce, oprf, odd, now), 'INVALID_ARGUMENT', `rp.evaluate blinded ${JSON.stringify(odd)}`);
  }
  for (const m of [0, -1, 1.5, NaN, '2', null, 2 ** 32]) {
    assertCode(() => evaluateBatch(oprf, G, m), 'INVALID_ARGUMENT', `maxElements ${String(m)}`);
  }
  assertCode(() => evaluateBatch(oprf, Buffer.concat([G, G]), 1), 'INVALID_ARGUMENT', 'two elements where one is allowed');
  assertCode(() => evaluateBatch(oprf, new Uint8Array((limits.maxLoginElements + 1) * limits.elementBytes)), 'INVALID_ARGUMENT', 'one element over the largest login');
  assertCode(() => evaluateBatch(oprf, G.subarray(1)), 'MALFORMED_EVALUATION', 'not whole elements');
  assert.ok(memoryBytes() - before <= 1 << 20, `memory grew by ${memoryBytes() - before} bytes`);
  // a real evaluation: deterministic in the key, another key gives another element
  const e1 = evaluateBatch(oprf, G);
  assert.equal(e1.length, 32);
  assert.deepEqual(evaluateBatch(oprf, G), e1);
  assert.notDeepEqual(evaluateBatch(newOprfKey(), G), e1);
  const chC = rp.issueChallenge(now);
  for (const v of [undefined, NaN, null, 'soon', -5]) {
    assertCode(() => rp.evaluate(chC.nonce, oprf, G, v), 'INVALID_ARGUMENT', `rp.evaluate nowMs ${String(v)}`);
  }
  for (const v of [undefined, 42, chC.nonce.toUpperCase().slice(1), '+f'.repeat(32)]) {
    assertCode(() => rp.evaluate(v, oprf, G, now), 'INVALID_ARGUMENT', `rp.evaluate nonce ${String(v)}`);
  }
  assert.deepEqual(rp.evaluate(chC.nonce, oprf, G, now), e1, 'the one evaluation of this challenge, after refused calls');
  assertCode(() => rp.evaluate(chC.nonce, oprf, G, now), 'NONCE_REUSED_OR_UNKNOWN', 'a second evaluation');
});

// --- fuzz: every public function, random values of every type, on the package and on the raw bindings ---
const seed = Number(process.env.FUZZ_SEED || Math.floor(Math.random() * 2 ** 32));
const calls = Number(process.env.FUZZ_CALLS || 4000);
const rng = makeRandom(seed);

// What each parameter accepts (the documented types), to know when INVALID_ARGUMENT is the only right answer
// (a typed array's kind and size read with the built-in getters, as a subclass cannot fake them)
const TypedArray = Object.getPrototypeOf(Uint8Array.prototype);
const intrinsic = (name, v) => Object.getOwnPropertyDescriptor(TypedArray, name).get.call(v);
const isBytes = (v, max, exact) => intrinsic(Symbol.toStringTag, v) === 'Uint8Array'
  && intrinsic('byteLength', v) <= max && (exact === undefined || intrinsic('byteLength', v) === exact);
const isTime = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRpId = (v) => typeof v === 'string' && /^[\x21-\x7e]{1,255}$/.test(v);
const isChallenge = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && Object.getPrototypeOf(v) === Object.prototype
  && isRpId(v.rpId) && typeof v.nonce === 'string' && /^[0-9a-fA-F]{64}$/.test(v.nonce) && isTime(v.expiresAt);
const PARAMS = {
  proof: { valid: (v) => isBytes(v, limits.maxProofBytes), extra: [liveA, noLiveA, liveA.subarray(1), new Uint8Array(limits.maxProofBytes)] },
  challenge: { valid: isChallenge, extra: [chA, { ...chA, expiresAt: 0 }, { ...chA, rpId: 'other.example' }, { ...chA, nonce: chB.nonce }, { ...chA, nonce: 'g'.repeat(64) }, { rpId: chA.rpId, nonce: chA.nonce }] },
  publicKey: { valid: (v) => isBytes(v, 32, 32), extra: [pk, new Uint8Array(32), new Uint8Array(32).fill(255), pk.subarray(1)] },
  reference: { valid: (v) => isBytes(v, limits.maxReferenceBytes), extra: [reference, reference.subarray(0, 100), new Uint8Array(limits.maxReferenceBytes), new Uint8Array(0)] },
  now: { valid: isTime, extra: [now, late, 0, Number.MAX_SAFE_INTEGER] },
  liveness: { valid: (v) => v === undefined || typeof v === 'boolean', extra: [true, false, undefined] },
  rpId: { valid: isRpId, extra: ['bank.example', 'x'.repeat(255)] },
  ttl: { valid: (v) => v === undefined || (isTime(v) && v > 0), extra: [undefined, 1, 60_000] },
  oprfKey: { valid: (v) => isBytes(v, 32, 32), extra: [oprf, new Uint8Array(32), new Uint8Array(32).fill(255), oprf.subarray(1)] },
  blinded: { valid: (v) => isBytes(v, limits.maxLoginElements * limits.elementBytes), extra: [G, Buffer.concat([G, G]), G.subarray(1), new Uint8Array(32), new Uint8Array(0),
    new Uint8Array(limits.maxLoginElements * limits.elementBytes), new Uint8Array((limits.maxLoginElements + 1) * limits.elementBytes)] },
  // evaluateBatch's blinded: its largest size depends on maxElements (the target checks it)
  batch: { valid: (v) => isBytes(v, Infinity), extra: [] },
  maxElements: { valid: (v) => v === undefined || (Number.isInteger(v) && v >= 1 && v <= 0xffffffff), extra: [undefined, 1, limits.maxLoginElements, 0, 2 ** 32] },
  nonce: { valid: (v) => typeof v === 'string' && /^[0-9a-fA-F]{64}$/.test(v), extra: [chA.nonce, chB.nonce, 'g'.repeat(64), chA.nonce.slice(2)] },
};
const validArg = (param, v) => {
  try {
    return PARAMS[param].valid(v);
  } catch {
    return false; // a value whose reading throws is no valid argument
  }
};
PARAMS.batch.extra = PARAMS.blinded.extra;
const draw = (param) => randomValue(rng, limits, PARAMS[param].extra);

function targets(api, label) {
  const party = new api.RelyingParty('bank.example'); // its own nonces: the real proofs' nonces are unknown to it
  return [
    { name: `${label} verifyProof`, params: ['proof', 'challenge', 'publicKey', 'reference', 'now', 'liveness'], call: (a) => api.verifyProof(...a) },
    { name: `${label} RelyingParty.verify`, params: ['proof', 'publicKey', 'reference', 'now', 'liveness'], call: (a) => party.verify(...a) },
    { name: `${label} RelyingParty.issueChallenge`, params: ['now'], call: (a) => party.issueChallenge(...a),
      ok: (r, a) => r.rpId === 'bank.example' && /^[0-9a-f]{64}$/.test(r.nonce) && r.expiresAt === a[0] + 120_000 },
    { name: `${label} new RelyingParty`, params: ['rpId', 'ttl'], call: (a) => new api.RelyingParty(...a).free() },
    { name: `${label} referenceInfo`, params: ['reference'], call: (a) => api.referenceInfo(...a) },
    { name: `${label} newDeviceSecret`, params: [], call: () => api.newDeviceSecret(), ok: (r) => r instanceof Uint8Array && r.length === 32 },
    { name: `${label} newOprfKey`, params: [], call: () => api.newOprfKey(), ok: (r) => r instanceof Uint8Array && r.length === 32 },
    { name: `${label} evaluateBatch`, params: ['oprfKey', 'batch', 'maxElements'], call: (a) => api.evaluateBatch(...a),
      // the batch may hold maxElements elements when that is given
      bad: ([, blinded, m]) => validArg('maxElements', m) && !isBytes(blinded, (m ?? limits.maxLoginElements) * limits.elementBytes),
      ok: (r, a) => r instanceof Uint8Array && r.length === a[1].length },
    { name: `${label} RelyingParty.evaluate`, params: ['nonce', 'oprfKey', 'blinded', 'now'], call: (a) => party.evaluate(...a) },
  ];
}

/** Hostile objects (proxies, throwing getters, lying subclasses) are for the package entry only: the raw bindings read what they are given. */
const plain = (v) => {
  try {
    return !(v && typeof v === 'object') || Object.getPrototypeOf(v) === Object.prototype || Array.isArray(v)
      || [Uint8Array.prototype, Buffer.prototype].includes(Object.getPrototypeOf(v));
  } catch {
    return false;
  }
};

function fuzz(api, label, hostile) {
  const memBefore = memoryBytes();
  const codes = {};
  let wrong = 0;
  const list = targets(api, label);
  for (let i = 0; i < calls; i++) {
    const t = list[rng.int(list.length)];
    let args;
    do args = t.params.map(draw); while (!hostile && !args.every(plain));
    const bad = t.params.some((p, k) => !validArg(p, args[k])) || (t.bad ? t.bad(args) : false);
    const { error, returned } = thrown(() => t.call(args));
    let problem = null;
    if (!error) {
      if (bad) problem = `returned for an invalid argument`;
      else if (t.ok && !t.ok(returned, args)) problem = `returned ${String(returned)}`;
    } else if (!(error && error.name === 'FaceproofError' && PROTOCOL_CODES.has(error.code))) {
      problem = `threw ${describeError(error)}`;
    } else if (hostile && !(FaceproofError && error instanceof FaceproofError)) {
      problem = `threw ${describeError(error)}, not the package's FaceproofError`;
    } else if (bad && error.code !== 'INVALID_ARGUMENT') {
      problem = `answered ${error.code} for an invalid argument`;
    }
    if (error) codes[error.code || error.name] = (codes[error.code || error.name] || 0) + 1;
    if (problem && wrong++ < 8) {
      const show = (a) => {
        try {
          if (typeof a === 'symbol') return 'symbol';
          if (typeof a === 'string') return `string(${a.length})`;
          if (Array.isArray(a)) return `array(${a.length})`;
          return a && typeof a === 'object' ? `${a.constructor && a.constructor.name}(${a.length ?? ''})` : String(a);
        } catch {
          return 'unreadable';
        }
      };
      const shown = args.map(show);
      console.error(`     ${t.name}(${shown.join(', ')}): ${problem}`);
    }
  }
  const grown = memoryBytes() - memBefore;
  console.log(`     ${label}: ${calls} calls, seed ${seed}, codes ${JSON.stringify(codes)}, memory +${grown} bytes`);
  assert.equal(wrong, 0, `${wrong} of ${calls} calls answered wrongly (seed ${seed})`);
  assert.ok(grown <= 4 << 20, `memory grew by ${grown} bytes`);
}

check('fuzz: every function of faceproof/verifier answers random values with a FaceproofError and its code', () => fuzz(verifier, 'faceproof/verifier', true));
check('fuzz: the raw wasm bindings answer them with coded errors too (no trap)', () => fuzz(raw, 'wasm bindings', false));

// --- and the module still works: the real proofs verify, the issued nonce is still there ---
check('after all that, real proofs still verify', () => {
  assert.equal(verifyProof(liveA, chA, pk, reference, now, true).ok, true, 'stateless');
  assert.equal(rp.verify(liveB, pk, reference, now).ok, true, 'stateful, requireLiveness left out (required)');
  assert.equal(referenceInfo(reference).publicKey, publicKey);
  assert.equal(newDeviceSecret().length, 32);
  assert.equal(evaluateBatch(oprf, G).length, 32);
});

if (failures.length) {
  console.error(`\n${failures.length} check(s) failed:\n  - ${failures.join('\n  - ')}`);
  process.exit(1);
}
console.log('ok   faceproof/verifier: one type per argument (INVALID_ARGUMENT otherwise), requireLiveness left out = required, no time 0, no trap, no memory growth; real proofs verify after the fuzz');
