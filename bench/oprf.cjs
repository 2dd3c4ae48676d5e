// The relying party's OPRF evaluation in wasm (the Node verifier): best of 7 batches of 1,024
// elements. Usage: node bench/oprf.cjs [path/to/faceproof_verifier.js] (default: the built pkg/)
const path = require('node:path');
const v = require(process.argv[2] ? path.resolve(process.argv[2]) : path.join(__dirname, '../pkg/verifier.cjs'));
// Ristretto255's base point, a valid element
const element = Buffer.from('e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76', 'hex');
const blinded = new Uint8Array(Buffer.concat(Array(1024).fill(element)));
const key = v.newOprfKey();
let best = Infinity;
for (let i = 0; i < 7; i++) {
  const t = performance.now();
  v.evaluateBatch(key, blinded, 1024);
  best = Math.min(best, performance.now() - t);
}
console.log(`OPRF evaluation of 1,024 elements in wasm (Node ${process.version}): best of 7 ${best.toFixed(1)} ms, ${(best / 1024 * 1000).toFixed(0)} µs per element`);
