// Random JS values of every type for the argument fuzz tests (tests/e2e/verifier-fuzz.mjs in
// Node, tests/e2e/api-fuzz.html in the browser): numbers (NaN, ±Infinity, -0, negatives, 2^53,
// fractions), strings, null/undefined, booleans, symbols, functions, bigints, objects with odd
// `length`s, arrays, typed arrays of every kind and of sizes up to and just over the limits,
// detached and shared buffers, proxies and getters that throw, objects shaped like the real
// arguments with one field wrong. Plain ES: no Node or DOM APIs.

/** A seeded PRNG (mulberry32): the same seed replays the same values. */
export function makeRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (list) => list[int(list.length)] };
}

const TYPED = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  ...(typeof Float16Array === 'function' ? [Float16Array] : []),
];

const NUMBERS = [
  0, -0, 1, -1, -5, 0.5, 1.5, -0.25, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2 ** 53 - 1,
  2 ** 53 + 2, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 1e21, 1e300, 32, 33, 255, 256,
];

const STRINGS = [
  '', 'true', 'false', 'required', 'soon', '0', '-5', 'NaN', 'bank.example', 'bank example', 'a'.repeat(255),
  'a'.repeat(256), '\u0000', 'ümlaut.example', '😀', '0'.repeat(64), 'g'.repeat(64), '+f'.repeat(32), 'ab'.repeat(33),
  '{"rpId":"bank.example"}', 'x'.repeat(1 << 20),
];

/** An object whose getter for `name` throws. */
const throwingGetter = (name) => Object.defineProperty({}, name, { get() { throw new Error(`getter ${name}`); }, enumerable: true });

/** A Uint8Array whose `length` and `byteLength` lie (a subclass overriding the getters). */
class LyingBytes extends Uint8Array {
  get length() { return 2 ** 31; }
  get byteLength() { return 2 ** 31; }
}
class ShortBytes extends Uint8Array {
  get length() { return 1; }
  get byteLength() { return 1; }
}

function detached(n) {
  const a = new Uint8Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

/**
 * One random value. `limits` gives the sizes around which byte arrays are drawn:
 * {maxProofBytes, maxReferenceBytes}. `extra` lists values to draw from as well (real
 * arguments, near-valid variants).
 */
export function randomValue(rng, limits, extra = []) {
  const sizes = [0, 1, 31, 32, 33, 64, 207, limits.maxProofBytes, limits.maxProofBytes + 1,
    limits.maxReferenceBytes, limits.maxReferenceBytes + 1, rng.int(limits.maxReferenceBytes + 2)];
  const size = () => rng.pick(sizes);
  const kinds = [
    () => rng.pick(NUMBERS),
    () => (rng.next() - 0.5) * 10 ** rng.int(20),
    () => rng.int(2 ** 31) * (rng.next() < 0.3 ? -1 : 1),
    () => rng.pick(STRINGS),
    () => rng.pick([null, undefined, true, false]),
    () => rng.pick([Symbol('x'), Symbol.iterator, Symbol.for('faceproof')]),
    () => rng.pick([() => 1, function f() {}, class C {}, Math.max, async () => {}]),
    () => rng.pick([1n, -1n, 2n ** 64n]),
    () => rng.pick([{ length: -1 }, { length: 2 ** 31 }, { length: 2 ** 26 }, { length: 2 ** 32 }, { length: NaN },
      { length: '5' }, { length: 1e300 }, { length: 32, 0: 1, 31: 2 }, { length: 2 ** 53 }, { byteLength: 32, length: 32 }]),
    () => rng.pick([[], [1, 2, 3], new Array(32).fill(7), new Array(2 ** 26), Array.from({ length: 33 }, (_, i) => i), ['bank.example']]),
    () => new (rng.pick(TYPED))(Math.min(size(), 1 << 20)),
    () => new Uint8Array(size()),
    () => new Uint8Array(size()).fill(rng.int(256)),
    () => new Uint8ClampedArray(size()),
    () => rng.pick([new ArrayBuffer(32), new DataView(new ArrayBuffer(32)), detached(32), detached(0),
      ...(typeof SharedArrayBuffer === 'function' ? [new Uint8Array(new SharedArrayBuffer(32)), new SharedArrayBuffer(32)] : [])]),
    () => rng.pick([new LyingBytes(8), new ShortBytes(64), new Uint8Array(new ArrayBuffer(64), 16, 32)]),
    () => rng.pick([{}, Object.create(null), new Date(0), /re/, new Map(), new Set(), Promise.resolve(1), new Error('e'),
      new Proxy({}, { get() { throw new Error('proxy get'); } }), (() => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; })(),
      throwingGetter('rpId'), throwingGetter('length'), throwingGetter('data'), throwingGetter('width'), throwingGetter('deviceSecret')]),
  ];
  if (extra.length && rng.next() < 0.35) return rng.pick(extra);
  return rng.pick(kinds)();
}
