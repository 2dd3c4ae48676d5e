// faceproof/verifier: the relying party's side, for Node.js (no models, no inference).
//   const { RelyingParty, verifyProof, referenceInfo, newOprfKey, evaluateBatch, FaceproofError } = require('faceproof/verifier');
//
// Every argument is checked here for its type and size before anything reaches the wasm module:
// a wrong type, a missing time, a size beyond the largest valid proof or reference is a
// FaceproofError with code INVALID_ARGUMENT, never a coercion (no value counts as time 0 or as
// "liveness not required"), and nothing oversized is copied into the module's memory. Errors from
// the module come out as FaceproofError with their code too.
'use strict';
const wasm = require('./node/faceproof_verifier.js');

/** Every error from faceproof: `code` is stable (INVALID_ARGUMENT, BAD_SIGNATURE, CHALLENGE_EXPIRED, …). */
class FaceproofError extends Error {
  constructor(message, code, options) {
    super(message, options);
    this.name = 'FaceproofError';
    this.code = code;
  }
}

/** An error from the wasm module (or anything else thrown under it) as a FaceproofError. */
function coded(e) {
  if (e instanceof FaceproofError) return e;
  if (e && typeof e === 'object' && e.name === 'FaceproofError' && typeof e.code === 'string') {
    return new FaceproofError(String(e.message), e.code);
  }
  // not an error the module raises on purpose: kept as the cause, never passed on uncoded
  return new FaceproofError(`internal error: ${e && e.message ? e.message : String(e)}`, 'INTERNAL', { cause: e });
}

function guarded(fn) {
  try {
    return fn();
  } catch (e) {
    throw coded(e);
  }
}

const LIMITS = Object.freeze(guarded(() => wasm.limits()));

const invalid = (message) => new FaceproofError(`invalid argument: ${message}`, 'INVALID_ARGUMENT');

/** What a value is, for messages (its type and size, never its contents). */
function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'number') return `the number ${Object.is(v, -0) ? '-0' : v}`;
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  if (typeof v !== 'object') return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
  if (Array.isArray(v)) return 'an array';
  const tag = typedArrayTag(v);
  if (tag) return `a ${tag} of ${typedArrayLength(v)} elements`;
  return 'an object';
}

// The typed-array internals, read with the built-in getters (brand-checked: a plain object
// with a `length` or a subclass overriding the getters cannot pass for a Uint8Array, and
// Uint8Arrays of another realm can).
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const getter = (name) => Object.getOwnPropertyDescriptor(TypedArrayProto, name).get;
const tagOf = getter(Symbol.toStringTag);
const bufferOf = getter('buffer');
const offsetOf = getter('byteOffset');
const lengthOf = getter('byteLength');
const elementsOf = getter('length');
const typedArrayTag = (v) => tagOf.call(v);
const typedArrayLength = (v) => elementsOf.call(v);

/** A Uint8Array (Buffer is one) of `min`..`max` bytes, as a plain view of the same bytes. */
function bytes(v, name, max, exact) {
  if (typedArrayTag(v) !== 'Uint8Array') throw invalid(`${name} must be a Uint8Array, not ${describe(v)}`);
  const len = lengthOf.call(v);
  if (exact !== undefined && len !== exact) throw invalid(`${name} must be ${exact} bytes, not ${len}`);
  if (len > max) throw invalid(`${name} of ${len} bytes is longer than the largest valid one (${max} bytes)`);
  return new Uint8Array(bufferOf.call(v), offsetOf.call(v), len);
}

/** Blinded elements: a Uint8Array of at most `max` elements (whole elements are the module's check: MALFORMED_EVALUATION). */
function blindedArg(v, max) {
  return bytes(v, 'blinded', max * LIMITS.elementBytes);
}

/** A nonce as issued: 64 hex digits. */
function nonceArg(v, name) {
  if (typeof v !== 'string' || !NONCE.test(v)) throw invalid(`${name} must be 64 hex digits, not ${describe(v)}`);
  return v;
}

/** A time in milliseconds: a non-negative integer number (Unix time). Required. */
function time(v, name) {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw invalid(`${name} must be a non-negative integer number of milliseconds, not ${describe(v)}`);
  }
  return v + 0; // -0 -> 0
}

/** `requireLiveness`: true or false; left out (undefined) it means required. */
function liveness(v) {
  if (v === undefined) return true;
  if (typeof v !== 'boolean') throw invalid(`requireLiveness must be true or false (left out: required), not ${describe(v)}`);
  return v;
}

const RP_ID = /^[\x21-\x7e]+$/;
const NONCE = /^[0-9a-fA-F]{64}$/;
function rpIdArg(v, name) {
  if (typeof v !== 'string') throw invalid(`${name} must be a string, not ${describe(v)}`);
  if (v.length < 1 || v.length > LIMITS.maxRpIdLength || !RP_ID.test(v)) {
    throw invalid(`${name} must be 1-${LIMITS.maxRpIdLength} printable ASCII characters`);
  }
  return v;
}

/** The challenge the relying party issued: {rpId, nonce (64 hex digits), expiresAt (ms)}, each field read once. */
function challengeArg(v) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw invalid(`issuedChallenge must be an object {rpId, nonce, expiresAt}, not ${describe(v)}`);
  }
  const rpId = rpIdArg(v.rpId, 'issuedChallenge.rpId');
  const nonce = nonceArg(v.nonce, 'issuedChallenge.nonce');
  const expiresAt = time(v.expiresAt, 'issuedChallenge.expiresAt');
  return { rpId, nonce, expiresAt };
}

/** Reads and checks arguments; anything thrown meanwhile (a getter, a proxy) is INVALID_ARGUMENT. */
function args(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FaceproofError) throw e;
    throw invalid(`an argument could not be read (${e && e.message ? e.message : String(e)})`);
  }
}

/** The sizes arguments must keep to: {maxProofBytes, maxReferenceBytes, publicKeyBytes, deviceSecretBytes, oprfKeyBytes, elementBytes, maxLoginElements, maxRpIdLength, maxImageSide}. */
function limits() {
  return { ...LIMITS };
}

/**
 * Stateless verification for servers that keep issued nonces in their own database: the challenge
 * you issued (and just removed from your store), the user's stored public key and reference, the
 * time (Unix ms) and whether liveness is required (left out: required).
 * Returns {ok: true, rpId, nonce}; throws a FaceproofError whose `code` says why otherwise.
 */
function verifyProof(proof, issuedChallenge, publicKey, reference, nowMs, requireLiveness) {
  const a = args(() => [
    bytes(proof, 'proof', LIMITS.maxProofBytes),
    challengeArg(issuedChallenge),
    bytes(publicKey, 'publicKey', LIMITS.publicKeyBytes, LIMITS.publicKeyBytes),
    bytes(reference, 'reference', LIMITS.maxReferenceBytes),
    time(nowMs, 'nowMs'),
    liveness(requireLiveness),
  ]);
  return guarded(() => wasm.verifyProof(...a));
}

/** The public header of a reference: {rpId, epoch, publicKey (hex), bytes}. */
function referenceInfo(reference) {
  const r = args(() => bytes(reference, 'reference', LIMITS.maxReferenceBytes));
  return guarded(() => wasm.referenceInfo(r));
}

/** 32 random bytes (the OS's CSPRNG). */
function newDeviceSecret() {
  return guarded(() => wasm.newDeviceSecret());
}

/** A fresh OPRF key for one user and epoch (32 bytes): keep it in the relying party's database. */
function newOprfKey() {
  return guarded(() => wasm.newOprfKey());
}

/**
 * Evaluate blinded elements (concatenated 32-byte elements) under `oprfKey` (32 bytes): enrollment
 * (one batch of the lock count, for a caller you vetted), or a login whose challenge you claimed in
 * your own store. At most `maxElements` (an integer from 1 to 2^32-1; left out: the largest login).
 */
function evaluateBatch(oprfKey, blinded, maxElements) {
  const a = args(() => {
    if (maxElements !== undefined && (typeof maxElements !== 'number' || !Number.isInteger(maxElements) || maxElements < 1 || maxElements > 0xffffffff)) {
      throw invalid(`maxElements must be an integer from 1 to 2^32-1 (left out: the largest login), not ${describe(maxElements)}`);
    }
    const key = bytes(oprfKey, 'oprfKey', LIMITS.oprfKeyBytes, LIMITS.oprfKeyBytes);
    return [key, blindedArg(blinded, maxElements === undefined ? LIMITS.maxLoginElements : maxElements), maxElements];
  });
  return guarded(() => wasm.evaluateBatch(...a));
}

/** Verifier with an in-memory single-use nonce store (one process). */
class RelyingParty {
  #inner;

  /** `rpId`: 1-255 printable ASCII characters; `ttlMs`: how long a challenge stays valid (positive integer, default 120000). */
  constructor(rpId, ttlMs) {
    const [id, ttl] = args(() => {
      const id = rpIdArg(rpId, 'rpId');
      if (ttlMs === undefined) return [id, undefined];
      const ttl = time(ttlMs, 'ttlMs');
      if (ttl === 0) throw invalid('ttlMs must be positive');
      return [id, ttl];
    });
    this.#inner = guarded(() => new wasm.RelyingParty(id, ttl));
  }

  static #of(self) {
    if (!(self !== null && typeof self === 'object' && #inner in self)) throw invalid('not a RelyingParty');
    if (!self.#inner) throw invalid('this RelyingParty has been freed');
    return self.#inner;
  }

  /** A fresh challenge {rpId, nonce (hex), expiresAt (ms)} valid for ttlMs from `nowMs` (required). */
  issueChallenge(nowMs) {
    const inner = RelyingParty.#of(this);
    const now = args(() => time(nowMs, 'nowMs'));
    return guarded(() => inner.issueChallenge(now));
  }

  /**
   * Evaluate a login's blinded elements for the challenge with this nonce (hex): once per issued,
   * unexpired challenge at `nowMs` (required); a second call is NONCE_REUSED_OR_UNKNOWN. A call
   * refused for its arguments uses up nothing.
   */
  evaluate(nonce, oprfKey, blinded, nowMs) {
    const inner = RelyingParty.#of(this);
    const a = args(() => [
      nonceArg(nonce, 'nonce'),
      bytes(oprfKey, 'oprfKey', LIMITS.oprfKeyBytes, LIMITS.oprfKeyBytes),
      blindedArg(blinded, LIMITS.maxLoginElements),
      time(nowMs, 'nowMs'),
    ]);
    return guarded(() => inner.evaluate(...a));
  }

  /** Verify a proof against this party's issued challenges (the nonce is used up whatever the outcome). */
  verify(proof, publicKey, reference, nowMs, requireLiveness) {
    const inner = RelyingParty.#of(this);
    const a = args(() => [
      bytes(proof, 'proof', LIMITS.maxProofBytes),
      bytes(publicKey, 'publicKey', LIMITS.publicKeyBytes, LIMITS.publicKeyBytes),
      bytes(reference, 'reference', LIMITS.maxReferenceBytes),
      time(nowMs, 'nowMs'),
      liveness(requireLiveness),
    ]);
    return guarded(() => inner.verify(...a));
  }

  /** Release the wasm memory now (otherwise when garbage-collected). Later calls throw INVALID_ARGUMENT. */
  free() {
    if (!(this !== null && typeof this === 'object' && #inner in this) || !this.#inner) return;
    const inner = this.#inner;
    this.#inner = null;
    inner.free();
  }
}
if (typeof Symbol.dispose === 'symbol') RelyingParty.prototype[Symbol.dispose] = RelyingParty.prototype.free;

module.exports = { FaceproofError, RelyingParty, verifyProof, referenceInfo, newDeviceSecret, newOprfKey, evaluateBatch, limits };
