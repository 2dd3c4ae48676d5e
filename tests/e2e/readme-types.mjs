// The README's "Use it" code, type-checked as a strict TypeScript user meets it: every ```js
// block of that section becomes a module in a fresh project that imports the built package
// (pkg/, linked as node_modules/faceproof) with `strict: true` and `skipLibCheck: false` (so the
// package's own .d.ts files are checked too), and `tsc -p` must report nothing. The names the
// snippets use but leave to the page (post, b64, video, …) are declared in a prelude. The
// browser blocks are checked as .ts; the Node block as written (.cjs, checkJs: `require` is typed)
// and as a TypeScript user writes it (`import … from 'faceproof/verifier'`, .ts and .cts).
// The same run holds wrong calls (a 1-character device secret, a string for a time, …) that
// must each be a type error: a check that cannot fail proves nothing.
// Run after scripts/build-pkg.sh: node tests/e2e/readme-types.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = path.join(root, 'pkg');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
for (const [p, what] of [[path.join(pkg, 'index.d.ts'), 'pkg/ (scripts/build-pkg.sh)'], [tsc, 'TypeScript (npm ci)']]) {
  if (!fs.existsSync(p)) {
    console.error(`missing ${p}: build or install ${what} first`);
    process.exit(2);
  }
}

// --- the README's "Use it" section and its ```js blocks ---
// (README=path checks another text, e.g. a proposed edit)
const readme = fs.readFileSync(process.env.README || path.join(root, 'README.md'), 'utf8');
const section = readme.match(/^## Use it\n([\s\S]*?)(?=^## )/m);
if (!section) throw new Error('README.md has no "## Use it" section');
const blocks = [...section[1].matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
const nodeBlocks = blocks.filter((b) => /require\('faceproof\/verifier'\)/.test(b));
const browserBlocks = blocks.filter((b) => !nodeBlocks.includes(b));
if (browserBlocks.length < 2 || nodeBlocks.length < 1) {
  throw new Error(`expected the browser's enrollment and login blocks and the Node block, found ${browserBlocks.length} and ${nodeBlocks.length}`);
}

// What the snippets leave to the page: the camera, the page's UI, the app's transport
// (post: JSON to the app's server, any answer), base64 / hex helpers, the user's data, and what
// one snippet uses from another (fp and frame of the enrollment block in the login block).
// Global, so that a name a snippet defines (a module) shadows its declaration here.
const prelude = `
import type { FaceProof } from 'faceproof';
declare global {
  const video: HTMLVideoElement;
  const bar: HTMLProgressElement;
  function showPrompt(prompt: 'turnLeft' | 'turnRight' | 'comeCloser' | 'lookStraight' | null): void;
  function post(url: string, body: object): Promise<any>;
  function b64(bytes: Uint8Array): string;
  function unb64(text: string): Uint8Array;
  function hex(bytes: Uint8Array): string;
  const username: string;
  const enrollmentToken: string;
  const idPhotoImageData: ImageData;
  const fp: FaceProof;
  const frame: () => ImageData;
  // the relying party's side: what the requests carried, decoded
  const blinded: Uint8Array;
  const reference: Uint8Array;
  const proof: Uint8Array;
  const publicKey: Uint8Array;
}
`;

// Wrong calls that a typed API rejects at compile time (each line must have an error, and only these).
const negative = `
import { FaceProof, DeviceSecretStore, imageDataFrom, FaceproofError } from 'faceproof';
import { RelyingParty, verifyProof, limits } from 'faceproof/verifier';
const fp = await FaceProof.create();
const challenge = { rpId: 'bank.example', nonce: 'ab'.repeat(32), expiresAt: Date.now() };
const evaluate = async (b: Uint8Array) => b;
await fp.prove({ deviceSecret: 'x', reference: new Uint8Array(1), challenge, evaluate }); // EXPECT deviceSecret is bytes
await fp.prove({ deviceSecret: new Uint8Array(32) }); // EXPECT reference, challenge and evaluate are required
await DeviceSecretStore.put('bank.example:ada', 'secret'); // EXPECT the secret is bytes
const s: string = await DeviceSecretStore.get('bank.example:ada'); // EXPECT get() may find nothing
await FaceProof.create({ onProgress: ({ loaded, total }: { loaded: string; total: number }) => loaded }); // EXPECT loaded is a number
imageDataFrom(video, '1280'); // EXPECT maxSide is a number
const code: 'NOT_A_CODE' = new FaceproofError('m', 'NO_FACE').code; // EXPECT codes are a closed union
new RelyingParty('bank.example').issueChallenge(); // EXPECT nowMs is required
verifyProof(proof, challenge, publicKey, reference, String(Date.now())); // EXPECT now is a number
limits().noSuchLimit; // EXPECT limits() has a fixed shape
`;

// The same in CommonJS JavaScript: `require('faceproof/verifier')` is typed, not `any`.
const negativeCjs = `
const { RelyingParty, evaluateBatch } = require('faceproof/verifier');
new RelyingParty('bank.example').issueChallenge('now'); // EXPECT nowMs is a number
evaluateBatch('key', blinded); // EXPECT the key is bytes
`;
const negatives = { 'negative.ts': negative, 'negative.cjs': negativeCjs };

// --- the project ---
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faceproof-readme-types-'));
const files = {};
const put = (name, text) => {
  files[name] = text;
  fs.writeFileSync(path.join(dir, name), text);
};
try {
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(pkg, path.join(dir, 'node_modules/faceproof'), 'dir');
  put('package.json', JSON.stringify({ private: true, type: 'module' }));
  put('tsconfig.json', JSON.stringify({
    compilerOptions: {
      strict: true, skipLibCheck: false, noEmit: true, target: 'es2022', lib: ['es2022', 'dom', 'dom.iterable'],
      module: 'nodenext', moduleResolution: 'nodenext', moduleDetection: 'force', allowJs: true, checkJs: true,
      types: [],
    },
    include: ['*.ts', '*.cts', '*.cjs'],
  }, null, 2));
  put('prelude.d.ts', prelude);
  // the later browser blocks continue the enrollment block's page: they use its imports
  const imports = browserBlocks[0].split('\n').filter((l) => /^import .* from 'faceproof';$/.test(l)).join('\n');
  browserBlocks.forEach((b, i) => put(`browser-${i + 1}.ts`, i === 0 ? b : `${imports}\n${b}`));
  nodeBlocks.forEach((b, i) => {
    put(`node-${i + 1}.cjs`, b);
    // the TypeScript user's form of the same code: `import {…} from` for `const {…} = require(…)`
    const imported = b.replace(/^const (\{[^}]*\}) = require\(('[^']+')\);$/m, 'import $1 from $2;');
    if (imported === b) throw new Error('the Node block does not start with `const {…} = require(…)`');
    put(`node-${i + 1}-import.ts`, imported);
    put(`node-${i + 1}-import.cts`, imported);
  });
  put('negative.ts', negative);
  put('negative.cjs', negativeCjs);

  const t0 = Date.now();
  let out = '';
  try {
    out = execFileSync(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = `${e.stdout || ''}${e.stderr || ''}`;
  }
  const ms = Date.now() - t0;

  // --- every error must be one of the negative file's expected ones; each expected one must be there ---
  const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
  const expected = Object.entries(negatives).flatMap(([file, text]) => text.split('\n')
    .map((l, i) => [`${file}:${i + 1}`, l]).filter(([, l]) => l.includes('// EXPECT')));
  const seen = new Set();
  const unexpected = [];
  for (const e of errors) {
    const m = e.match(/^(.*?)\((\d+),\d+\): error/);
    const at = m && `${path.basename(m[1])}:${m[2]}`;
    if (m && expected.some(([n]) => n === at)) seen.add(at);
    else unexpected.push(e);
  }
  const missed = expected.filter(([n]) => !seen.has(n));
  if (unexpected.length || missed.length || (!errors.length && out.trim())) {
    if (unexpected.length) {
      console.error('type errors in the README\'s code or the package\'s types:');
      for (const e of unexpected) {
        console.error(`  ${e}`);
        const m = e.match(/^(.*?)\((\d+),\d+\)/);
        const text = m && files[path.basename(m[1])];
        if (text) console.error(`      | ${text.split('\n')[Number(m[2]) - 1].trim()}`);
      }
    }
    for (const [, l] of missed) console.error(`a wrong call type-checked (the check would not catch it): ${l.trim()}`);
    if (!errors.length && out.trim()) console.error(out);
    process.exit(1);
  }
  console.log(`ok   README "Use it" code type-checks against pkg/ (strict, skipLibCheck: false; ${browserBlocks.length} browser, ${nodeBlocks.length} Node block(s)), ${expected.length} wrong calls rejected, tsc ${ms} ms`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
