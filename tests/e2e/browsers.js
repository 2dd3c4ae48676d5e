// The browser half of tests/e2e/browsers.mjs: the package's browser API in whatever browser
// opened this page (no driver), on the real portraits. It posts what it measured to /result;
// the Node side compares it with the native pipeline and fails the run on any difference.
import { FaceProof, imageDataFrom } from '/pkg/index.js';
import initWasm, { RelyingParty, newOprfKey, evaluateBatch } from '/pkg/faceproof_wasm.js';

const load = (name) => new Promise((resolve, reject) => {
  const img = new Image();
  img.onload = () => resolve(imageDataFrom(img, 4096));
  img.onerror = () => reject(new Error(`cannot load ${name}`));
  img.src = `/tests/data/portraits/${name}`;
});
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function run() {
  const out = { userAgent: navigator.userAgent, steps: {} };
  const t0 = performance.now();
  const fp = await FaceProof.create();
  out.createMs = performance.now() - t0;
  out.simd = fp.timings.simd;
  const [obama, obama2, biden] = await Promise.all(['obama.jpg', 'obama2.jpg', 'biden.jpg'].map(load));
  out.embeddings = {};
  for (const [name, frame] of [['obama.jpg', obama], ['obama2.jpg', obama2], ['biden.jpg', biden]]) {
    out.embeddings[name] = Array.from(await fp.embed(frame));
  }
  out.compare = { same: (await fp.compare(obama, obama2)).score, other: (await fp.compare(obama, biden)).score };
  // speed: 15 template() calls after one warm-up
  await fp.template(obama);
  const times = [];
  for (let i = 0; i < 15; i++) {
    const a = performance.now();
    await fp.template(obama);
    times.push(performance.now() - a);
  }
  out.templateMs = median(times);
  // enrollment and login through the relying party's OPRF evaluation (in this page)
  await initWasm();
  const rp = new RelyingParty('browsers.example');
  const key = newOprfKey();
  await fp.clearCaptures();
  if (!(await fp.capture(obama)).captured) throw new Error('obama.jpg was not captured');
  const deviceSecret = await fp.newDeviceSecret();
  const { reference, publicKey } = await fp.enroll({
    deviceSecret: deviceSecret.slice(), rpId: 'browsers.example', evaluate: async (b) => evaluateBatch(key, b),
  });
  const login = async (frame) => {
    await fp.clearCaptures();
    await fp.capture(frame);
    const challenge = rp.issueChallenge(Date.now());
    const proof = await fp.prove({
      deviceSecret: deviceSecret.slice(), reference, challenge, requireLiveness: false,
      evaluate: async (b) => rp.evaluate(challenge.nonce, key, b, Date.now()),
    });
    return rp.verify(proof, publicKey, reference, Date.now(), false).ok;
  };
  out.steps.sameFaceLogsIn = await login(obama2);
  out.steps.otherFace = await login(biden).then(() => 'ACCEPTED', (e) => e.code || String(e));
  await fp.terminate();
  return out;
}

run().then((r) => r, (e) => ({ error: `${e.code || ''} ${e.message}`, stack: e.stack }))
  .then((r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) }));
