// The Node entry of the npm package (`faceproof/verifier`) verifies proofs made by the Rust
// pipeline on real faces: issue a challenge in Node, prove with the CLI on obama2.jpg against
// obama.jpg's reference, verify in Node (stateful and stateless), then a replay, another
// person, a tampered proof. Run by scripts/test.sh: node tests/e2e/node-verifier.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const { RelyingParty, verifyProof, referenceInfo, newOprfKey } = require(path.join(root, 'pkg/verifier.cjs'));
const cli = (args) => execFileSync(path.join(root, 'target/release/faceproof'), args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceproof-node-'));
const photo = (n) => path.join(root, 'tests/data/portraits', n);
const code = (fn) => { try { fn(); } catch (e) { return e.code; } return 'NO ERROR'; };

const secret = 'ab'.repeat(32);
// the relying party's OPRF key for this user, drawn in Node (the command line plays the evaluation)
const oprfKey = Buffer.from(newOprfKey()).toString('hex');
assert.match(oprfKey, /^[0-9a-f]{64}$/);
const ref = path.join(tmp, 'obama.ref');
const { publicKey } = JSON.parse(cli(['enroll', '--secret', secret, '--rp', 'bank.example', '--oprf-key', oprfKey, '--out', ref, photo('obama.jpg')]));
const reference = fs.readFileSync(ref);
const pk = Buffer.from(publicKey, 'hex');
assert.deepEqual(referenceInfo(reference), { rpId: 'bank.example', epoch: 1, publicKey, model: 'mobilefacenet-192', bytes: reference.length });

const rp = new RelyingParty('bank.example');
const now = Date.now();
const challenge = rp.issueChallenge(now);
const prove = (img, ch, extra = [], key = oprfKey) =>
  Buffer.from(cli(['prove', '--secret', secret, '--reference', ref, '--challenge', JSON.stringify(ch), '--oprf-key', key, ...extra, photo(img)]), 'base64');

const proof = prove('obama2.jpg', challenge, ['--assume-live']);
assert.equal(verifyProof(proof, challenge, pk, reference, now, true).ok, true, 'stateless verification');
assert.equal(rp.verify(proof, pk, reference, now, true).ok, true, 'stateful verification');
assert.equal(code(() => rp.verify(proof, pk, reference, now, true)), 'NONCE_REUSED_OR_UNKNOWN');
assert.equal(code(() => verifyProof(proof, challenge, pk, reference, challenge.expiresAt + 1, true)), 'CHALLENGE_EXPIRED');
const tampered = Buffer.from(proof);
tampered[tampered.length - 3] ^= 1;
assert.equal(code(() => verifyProof(tampered, challenge, pk, reference, now, true)), 'BAD_SIGNATURE');
assert.equal(code(() => verifyProof(proof.subarray(1), challenge, pk, reference, now, true)), 'MALFORMED_PROOF');
const noLive = prove('obama3.jpg', challenge);
assert.equal(code(() => verifyProof(noLive, challenge, pk, reference, now, true)), 'LIVENESS_FAILED');
assert.equal(verifyProof(noLive, challenge, pk, reference, now, false).ok, true);
let bidenFailed = false;
try { prove('biden.jpg', challenge); } catch { bidenFailed = true; }
assert.ok(bidenFailed, 'another person cannot make a proof');
// the enrolled face itself opens nothing without the relying party's key
let otherKeyFailed = false;
try { prove('obama2.jpg', challenge, [], Buffer.from(newOprfKey()).toString('hex')); } catch { otherKeyFailed = true; }
assert.ok(otherKeyFailed, 'without the relying party\'s OPRF key the enrolled face cannot make a proof');
console.log('ok   Node verifier (faceproof/verifier) checks proofs from the Rust pipeline: accept, replay, expiry, tamper, liveness, other person, another OPRF key');
fs.rmSync(tmp, { recursive: true, force: true });
