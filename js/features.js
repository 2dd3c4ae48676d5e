// WebAssembly feature detection, for choosing which build of the module to load.

// A one-function module using f32x4.relaxed_madd: it validates where the browser has relaxed
// SIMD (Chrome 114+, Firefox 120+); there the module built with it is used (docs/performance.md).
const RELAXED_SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 133, 2, 11]);
export const hasRelaxedSimd = () => { try { return WebAssembly.validate(RELAXED_SIMD_PROBE); } catch { return false; } };
