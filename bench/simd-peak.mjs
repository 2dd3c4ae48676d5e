// What V8 can do with wasm SIMD on this machine: `node bench/simd-peak.mjs`
// Builds small modules from text (binaryen) and times them in headless Chromium:
// - peak: 12 independent accumulators, f32x4.relaxed_madd (4 multiply-adds per instruction)
//   and i32x4.relaxed_dot_i8x16_i7x16_add_s (16 per instruction: int8 with VNNI where V8 has it);
// - GEMM tiles: C[MR x NR] += A[MR x K] B[K x NR] on panels that stay in L1 (K = 128), one
//   v128.load32_splat per A value, as rten-gemm's kernel does. A tile fast in isolation keeps its
//   accumulators, B vectors and splats within V8's 15 vector registers (x86-64).
// Prints GMAC/s (best of 5 timed runs after a warm-up). `bench/run.mjs` imports `simdPeak` to
// record the machine's speed next to each run (a shared VM's neighbours slow it down).
import binaryen from 'binaryen';
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_FLAGS } from '../scripts/static-server.mjs';

const N = 12;
function peak(name, op, type) {
  const acc = [...Array(N).keys()];
  return `(func $${name} (export "${name}") (param $n i32) (result i32) (local $x v128) (local $y v128) ${acc.map((i) => `(local $a${i} v128)`).join(' ')}
  (local.set $x (v128.const i32x4 0x01020304 0x05060708 0x01010101 0x02020202))
  (local.set $y (v128.const i32x4 0x3f800001 0x3f800002 0x3f800003 0x3f800004))
  ${acc.map((i) => `(local.set $a${i} (v128.const i32x4 ${i} 1 2 3))`).join('\n')}
  (loop $l
    ${acc.map((i) => `(local.set $a${i} (${op} (local.get $x) (local.get $y) (local.get $a${i})))`).join('\n')}
    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
    (br_if $l (local.get $n)))
  (i32x4.extract_lane 0 ${acc.slice(1).reduce((s, i) => `(${type}.add ${s} (local.get $a${i}))`, '(local.get $a0)')}))`;
}
function tile(MR, NRV, K) {
  const acc = [];
  for (let i = 0; i < MR; i++) for (let j = 0; j < NRV; j++) acc.push(`$c${i}_${j}`);
  let body = '';
  for (let j = 0; j < NRV; j++) body += `(local.set $b${j} (v128.load offset=${j * 16} (local.get $bp)))\n`;
  for (let i = 0; i < MR; i++) {
    body += `(local.set $av (v128.load32_splat offset=${i * K * 4} (local.get $ap)))\n`;
    for (let j = 0; j < NRV; j++) body += `(local.set $c${i}_${j} (f32x4.relaxed_madd (local.get $av) (local.get $b${j}) (local.get $c${i}_${j})))\n`;
  }
  let store = '';
  for (let i = 0; i < MR; i++) for (let j = 0; j < NRV; j++) {
    const off = (i * NRV + j) * 16;
    store += `(v128.store offset=${off} (local.get $out) (f32x4.add (v128.load offset=${off} (local.get $out)) (local.get $c${i}_${j})))\n`;
  }
  return `(func $t${MR}x${NRV * 4} (export "t${MR}x${NRV * 4}") (param $tiles i32) (param $a i32) (param $b i32) (param $out i32)
  ${acc.map((a) => `(local ${a} v128)`).join(' ')} ${[...Array(NRV).keys()].map((j) => `(local $b${j} v128)`).join(' ')}
  (local $k i32) (local $ap i32) (local $bp i32) (local $av v128)
  (loop $t
    ${acc.map((a) => `(local.set ${a} (v128.const i32x4 0 0 0 0))`).join('\n')}
    (local.set $ap (local.get $a)) (local.set $bp (local.get $b)) (local.set $k (i32.const ${K}))
    (loop $l
      ${body}
      (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
      (local.set $bp (i32.add (local.get $bp) (i32.const ${NRV * 16})))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $l (local.get $k)))
    ${store}
    (local.set $tiles (i32.sub (local.get $tiles) (i32.const 1)))
    (br_if $t (local.get $tiles))))`;
}

const K = 128;
const TILES = [[8, 2], [6, 2], [4, 2], [3, 3], [4, 3]]; // [MR, NR / 4]; rten-gemm's own was 8x8
const mod = binaryen.parseText(`(module (memory (export "mem") 16)
  ${peak('fma', 'f32x4.relaxed_madd', 'f32x4')} ${peak('dot', 'i32x4.relaxed_dot_i8x16_i7x16_add_s', 'i32x4')}
  ${TILES.map(([m, n]) => tile(m, n, K)).join('\n')})`);
mod.setFeatures(binaryen.Features.All);
if (!mod.validate()) throw new Error('invalid module');
const bytes = [...mod.emitBinary()];

/** GMAC/s of the peak loops and the GEMM tiles (only the f32 peak with `{ tiles: false }`), in a new page of `browser`. */
export async function simdPeak(browser, { tiles = true } = {}) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    return await page.evaluate(async ({ bytes, K, tiles }) => {
      const { instance } = await WebAssembly.instantiate(new Uint8Array(bytes));
      const best = (f) => { const t = []; for (let i = 0; i < 5; i++) { const a = performance.now(); f(); t.push(performance.now() - a); } return Math.min(...t); };
      const out = {};
      for (const [name, macs] of tiles ? [['fma', 4], ['dot', 16]] : [['fma', 4]]) {
        const f = instance.exports[name];
        f(1e6);
        const n = 2e7;
        out[`peak ${name === 'fma' ? 'f32x4.relaxed_madd' : 'i32x4.relaxed_dot_i8x16_i7x16_add_s'}`] = Number((n * 12 * macs / best(() => f(n)) / 1e6).toFixed(1));
      }
      for (const [name, f] of Object.entries(tiles ? instance.exports : {})) {
        const m = name.match(/^t(\d+)x(\d+)$/);
        if (!m) continue;
        const macs = Number(m[1]) * Number(m[2]) * K;
        const n = Math.round(1e9 / macs);
        f(100, 0, 32768, 65536);
        out[`f32 tile ${m[1]}x${m[2]}`] = Number((n * macs / best(() => f(n, 0, 32768, 65536)) / 1e6).toFixed(1));
      }
      return out;
    }, { bytes, K, tiles });
  } finally {
    await context.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  try {
    for (const [k, v] of Object.entries(await simdPeak(browser))) console.log(`${k.padEnd(44)} ${v.toFixed(1).padStart(6)} GMAC/s`);
  } finally {
    await browser.close();
  }
}
