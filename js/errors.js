// FaceproofError and the argument checks the browser API shares (index.js, device-secret.js).

/** Every error from faceproof: `code` is stable (NO_FACE, MULTIPLE_FACES, FACE_MISMATCH, TERMINATED, …). */
export class FaceproofError extends Error {
  constructor(message, code, options) {
    super(message, options);
    this.name = 'FaceproofError';
    this.code = code;
  }
}

export const invalid = (message) => new FaceproofError(`invalid argument: ${message}`, 'INVALID_ARGUMENT');

// Typed-array internals read with the built-in getters: brand-checked, so neither a plain
// object with a `length` nor a subclass overriding the getters passes for a Uint8Array, while
// typed arrays of another realm (an iframe) do.
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const getter = (name) => Object.getOwnPropertyDescriptor(TypedArrayProto, name).get;
const tagGetter = getter(Symbol.toStringTag);
const bufferGetter = getter('buffer');
const offsetGetter = getter('byteOffset');
const lengthGetter = getter('byteLength');

/** 'Uint8Array', 'Float32Array', … for a typed array, undefined for anything else. */
export const typedArrayTag = (v) => tagGetter.call(v);

/** A plain Uint8Array over the bytes of a typed array (after typedArrayTag said it is one). */
export function byteView(v) {
  return new Uint8Array(bufferGetter.call(v), offsetGetter.call(v), lengthGetter.call(v));
}

/** What a value is, for messages: its type and size, never its contents. */
export function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'number') return `the number ${Object.is(v, -0) ? '-0' : v}`;
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  if (typeof v !== 'object') return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
  if (Array.isArray(v)) return 'an array';
  const tag = typedArrayTag(v);
  if (tag) return `a ${tag} of ${lengthGetter.call(v)} bytes`;
  return 'an object';
}

/** A Uint8Array of `exact` bytes or at most `max`, as a plain view of the same bytes. */
export function bytesArg(v, name, { exact, max = Infinity } = {}) {
  if (typedArrayTag(v) !== 'Uint8Array') throw invalid(`${name} must be a Uint8Array, not ${describe(v)}`);
  const len = lengthGetter.call(v);
  if (exact !== undefined && len !== exact) throw invalid(`${name} must be ${exact} bytes, not ${len}`);
  if (len > max) throw invalid(`${name} of ${len} bytes is longer than the largest valid one (${max} bytes)`);
  return byteView(v);
}

const RP_ID = /^[\x21-\x7e]{1,255}$/;
/** A relying-party id: 1-255 printable ASCII characters. */
export function rpIdArg(v, name) {
  if (typeof v !== 'string') throw invalid(`${name} must be a string, not ${describe(v)}`);
  if (!RP_ID.test(v)) throw invalid(`${name} must be 1-255 printable ASCII characters`);
  return v;
}

/** A plain object (not null, not an array), or undefined when `optional`. */
export function objectArg(v, name, optional = false) {
  if (v === undefined && optional) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw invalid(`${name} must be an object, not ${describe(v)}`);
  }
  return v;
}

/**
 * Runs argument checks: a FaceproofError passes through, anything else thrown while reading
 * the arguments (a throwing getter, a revoked proxy) becomes INVALID_ARGUMENT.
 */
export function checked(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FaceproofError) throw e;
    throw invalid(`an argument could not be read (${e && e.message ? e.message : String(e)})`);
  }
}
