// Load test of the demo relying party, bounded and on 127.0.0.1 only. The real server binary
// runs with --trust-proxy on a temporary database, so that X-Forwarded-For stands for many
// clients on one machine. An honest client onboards and enrolls obama with the command line
// (real face, real protocol); then one client floods /api/challenge and /api/login for obama
// with waves of concurrent requests while the honest client gets a challenge, proves with a
// second photo and logs in. Checked: the flooder was refused with 429 beyond its allowance, the
// honest login succeeded, live challenges and the database stayed small, the limits held after
// a restart on the same database, and two server processes on one database counted together.
//
// Run by scripts/test.sh (needs target/release/faceproof-server and target/release/faceproof):
//   node tests/e2e/rp-load.mjs
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = path.join(root, 'target/release/faceproof-server');
const CLI = path.join(root, 'target/release/faceproof');
const portraits = path.join(root, 'tests/data/portraits');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faceproof-load-'));
const db = path.join(tmp, 'rp.sqlite');
const t0 = Date.now();
const seconds = () => ((Date.now() - t0) / 1000).toFixed(1);
const log = (m) => console.log(`[${seconds().padStart(5)} s] ${m}`);

// The limits the server applies (server/src/limits.rs).
const CHALLENGES_PER_CLIENT = 20;
const FAILED_LOGINS_PER_USER_CLIENT = 5;
const LIVE_CHALLENGES_PER_USER = 10;

const HONEST = '198.51.100.10';
const FLOODER = '203.0.113.66';
const WAVE = 100; // concurrent requests per wave
const MAX_WAVES = 30;

const servers = new Set();
async function startServer() {
  const port = 18000 + Math.floor(Math.random() * 2000);
  const proc = spawn(SERVER, ['--port', String(port), '--db', db, '--www', path.join(root, 'www'), '--pkg', tmp, '--trust-proxy'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { if (String(d).includes('faceproof demo on')) resolve(); });
    proc.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  servers.add(proc);
  return { port, proc };
}
async function stopServer(s) {
  const exited = new Promise((resolve) => s.proc.once('exit', resolve));
  s.proc.kill('SIGTERM');
  await exited;
  servers.delete(s.proc);
}
function cleanup() {
  for (const p of servers) p.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** POST JSON as client `ip`: {status, body, bytes, retryAfter}. */
async function post(server, route, body, ip) {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/${route}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), bytes: text.length, retryAfter: res.headers.get('retry-after') };
}

const run = promisify(execFile);
const cli = async (args) => (await run(CLI, args, { cwd: root, maxBuffer: 1 << 20 })).stdout.trim();
const stats = () => JSON.parse(execFileSync(SERVER, ['--stats', '--db', db], { encoding: 'utf8' }));
const fileBytes = (f) => (fs.existsSync(f) ? fs.statSync(f).size : 0);

/** A structurally valid proof for `challenge` and `reference` with a made-up signature. */
function forgedProof(challenge, reference) {
  const rp = Buffer.from(challenge.rpId);
  const pk = reference.subarray(10 + reference[5], 42 + reference[5]);
  const expires = Buffer.alloc(8);
  expires.writeBigUInt64LE(BigInt(challenge.expiresAt));
  return Buffer.concat([
    Buffer.from('FPPF'), Buffer.from([1, rp.length]), rp, Buffer.from(challenge.nonce, 'hex'), expires, pk,
    createHash('sha256').update(reference).digest(), randomBytes(32), randomBytes(32), randomBytes(32),
  ]).toString('base64');
}

/** Count statuses: {200: n, 429: m, ...}. */
const tally = (results) => results.reduce((t, r) => ({ ...t, [r.status]: (t[r.status] || 0) + 1 }), {});

try {
  let server = await startServer();
  log(`server on 127.0.0.1:${server.port}, database ${db}`);

  // ---- the honest client onboards and enrolls obama
  const secret = '5a'.repeat(32);
  const oprfKey = await cli(['oprf-key']);
  const onboard = await post(server, 'onboard', { username: 'Obama' }, HONEST);
  assert.equal(onboard.status, 200, JSON.stringify(onboard.body));
  assert.equal(onboard.body.username, 'obama');
  const refFile = path.join(tmp, 'obama.ref');
  const enrolled = JSON.parse(await cli(['enroll', '--secret', secret, '--rp', 'localhost', '--oprf-key', oprfKey, '--out', refFile, path.join(portraits, 'obama.jpg')]));
  const reference = fs.readFileSync(refFile);
  const enroll = await post(server, 'enroll', { username: 'obama', enrollmentToken: onboard.body.enrollmentToken, publicKey: enrolled.publicKey, reference: reference.toString('base64') }, HONEST);
  assert.equal(enroll.status, 201, JSON.stringify(enroll.body));
  const dbBefore = stats().databaseBytes;
  log(`obama enrolled (${reference.length}-byte reference); database ${dbBefore} bytes`);

  // ---- one client floods while the honest client logs in
  let honestDone = false;
  const flood = [];
  let mostLive = 0;
  async function flooder() {
    const first = await post(server, 'challenge', { username: 'obama' }, FLOODER);
    flood.push(first);
    const proof = forgedProof(first.body.challenge, Buffer.from(first.body.reference, 'base64'));
    for (let wave = 0; wave < MAX_WAVES && (wave < 3 || !honestDone); wave++) {
      const requests = Array.from({ length: WAVE }, (_, i) => (i % 2
        ? post(server, 'challenge', { username: 'obama' }, FLOODER)
        : post(server, 'login', { username: 'obama', proof }, FLOODER)).then((r) => ({ ...r, route: i % 2 ? 'challenge' : 'login' })));
      flood.push(...(await Promise.all(requests)));
      if (wave % 3 === 0) mostLive = Math.max(mostLive, stats().mostLiveChallengesForOneUser);
    }
  }
  let honestLogin;
  const honestMs = {};
  async function honest() {
    await new Promise((r) => setTimeout(r, 50)); // the flood is under way
    let t = Date.now();
    const ch = await post(server, 'challenge', { username: 'obama' }, HONEST);
    honestMs.challenge = Date.now() - t;
    assert.equal(ch.status, 200, JSON.stringify(ch.body));
    const served = Buffer.from(ch.body.reference, 'base64');
    assert.ok(served.equals(reference), 'the enrolled reference is served');
    fs.writeFileSync(path.join(tmp, 'served.ref'), served);
    t = Date.now();
    const proof = await cli(['prove', '--secret', secret, '--reference', path.join(tmp, 'served.ref'), '--challenge', JSON.stringify(ch.body.challenge), '--oprf-key', oprfKey, '--assume-live', path.join(portraits, 'obama2.jpg')]);
    honestMs.prove = Date.now() - t;
    t = Date.now();
    honestLogin = await post(server, 'login', { username: 'obama', proof }, HONEST);
    honestMs.login = Date.now() - t;
    honestDone = true;
  }
  const tFlood = Date.now();
  await Promise.all([flooder(), honest()]);
  const floodSeconds = (Date.now() - tFlood) / 1000;
  const byRoute = (route) => tally(flood.filter((r) => r.route === route || (!r.route && route === 'challenge')));
  const challenges = byRoute('challenge');
  const logins = byRoute('login');
  const servedBytes = flood.reduce((n, r) => n + r.bytes, 0);
  log(`flood: ${flood.length} requests in ${floodSeconds.toFixed(1)} s; /challenge ${JSON.stringify(challenges)}, /login ${JSON.stringify(logins)}; ${(servedBytes / 1e6).toFixed(2)} MB served to the flooder`);
  log(`honest client: challenge ${honestMs.challenge} ms, prove ${honestMs.prove} ms (command line), login ${honestMs.login} ms -> ${honestLogin.status} ${JSON.stringify(honestLogin.body)}`);

  assert.equal(honestLogin.status, 200, `honest login: ${JSON.stringify(honestLogin.body)}`);
  assert.equal(honestLogin.body.user, 'obama');
  assert.equal(challenges[200], CHALLENGES_PER_CLIENT, 'the flooder got exactly its challenge allowance');
  assert.ok(challenges[429] > 0 && logins[429] > 0, 'the flooder was refused');
  assert.equal(flood.length, (challenges[200] || 0) + (challenges[429] || 0) + (logins[401] || 0) + (logins[429] || 0), 'no other status');
  assert.equal(logins[401], FAILED_LOGINS_PER_USER_CLIENT, 'the flooder got exactly its failed-login allowance');
  const limited = flood.find((r) => r.status === 429);
  assert.equal(limited.body.error, 'RATE_LIMITED');
  assert.ok(Number(limited.retryAfter) >= 1, 'Retry-After');
  const after = stats();
  mostLive = Math.max(mostLive, after.mostLiveChallengesForOneUser);
  assert.ok(mostLive <= LIVE_CHALLENGES_PER_USER, `live challenges for obama: ${mostLive}`);
  assert.ok(after.liveChallenges <= LIVE_CHALLENGES_PER_USER, `live challenges: ${after.liveChallenges}`);
  const dbAfter = after.databaseBytes;
  const files = `files ${fileBytes(db)} + WAL ${fileBytes(`${db}-wal`)} bytes`;
  log(`database: ${dbAfter} bytes (+${dbAfter - dbBefore}; ${files}); ${JSON.stringify(after)}; most live challenges for obama seen: ${mostLive}`);
  assert.ok(dbAfter - dbBefore < 32 * 1024, `database grew by ${dbAfter - dbBefore} bytes`);
  // the WAL is checkpointed at about 4 MB (SQLite's default of 1000 pages)
  assert.ok(fileBytes(`${db}-wal`) < 8 * 1024 * 1024, files);

  // ---- restart on the same database: the flooder is still refused
  await stopServer(server);
  server = await startServer();
  const again = await post(server, 'login', { username: 'obama', proof: forgedProof(flood[0].body.challenge, reference) }, FLOODER);
  log(`restarted: the flooder's next login -> ${again.status} ${again.body.error}, Retry-After ${again.retryAfter} s`);
  assert.equal(again.status, 429);
  assert.ok(Number(again.retryAfter) > 60, 'the failed-login window (an hour) outlives the restart');
  const challengeAgain = await post(server, 'challenge', { username: 'obama' }, FLOODER);
  const inWindow = Date.now() - tFlood < 55_000;
  log(`restarted: the flooder's next challenge -> ${challengeAgain.status} (${((Date.now() - tFlood) / 1000).toFixed(0)} s into its one-minute window)`);
  if (inWindow) assert.equal(challengeAgain.status, 429);

  // ---- two server processes on one database: one allowance for a client, whichever it asks
  const other = await startServer();
  const SPREAD = '203.0.113.77';
  const spread = await Promise.all(Array.from({ length: 60 }, (_, i) => post(i % 2 ? other : server, 'challenge', { username: `user${i % 7}` }, SPREAD).then((r) => ({ ...r, server: i % 2 }))));
  const okA = spread.filter((r) => r.status === 200 && r.server === 0).length;
  const okB = spread.filter((r) => r.status === 200 && r.server === 1).length;
  log(`two servers on one database: ${okA} + ${okB} challenges for one client of 60 asked (allowance ${CHALLENGES_PER_CLIENT})`);
  assert.equal(okA + okB, CHALLENGES_PER_CLIENT);
  assert.ok(okA > 0 && okB > 0, 'both servers answered');
  assert.equal(spread.filter((r) => r.status !== 200).every((r) => r.status === 429), true);
  // and the honest client, on the other process, is still welcome
  const honestAgain = await post(other, 'challenge', { username: 'obama' }, HONEST);
  assert.equal(honestAgain.status, 200);
  await stopServer(other);
  await stopServer(server);
  log(`load test passed in ${seconds()} s`);
} finally {
  cleanup();
}
