// The faceproof demo: onboarding (camera + quality hints, ID photo comparison, enrollment) and
// login (server challenge -> liveness prompts -> proof). Talks to the demo relying party
// (server/) whose API only ever sees a username, an enrollment token, a public key, an
// encrypted reference and a proof.
import { FaceProof, DeviceSecretStore } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
const RP_ID = location.hostname;

const HINTS = {
  NO_FACE: 'No face: look at the camera', MULTIPLE_FACES: 'Only one person in the picture, please',
  FACE_TOO_SMALL: 'Come closer', FACE_CUT_OFF: 'Move back and centre your face', TOO_DARK: 'Too dark: find more light',
  TOO_BRIGHT: 'Too bright: avoid direct light', LOW_CONTRAST: 'Low contrast: face the light', BLURRED: 'Hold still (blurred)',
  HEAD_TURNED: 'Look straight at the camera', HEAD_TILTED: 'Keep your head level', LOW_CONFIDENCE: 'Face not clear',
  FACE_UNCLEAR: 'Face not clear enough', PRESENTATION_ATTACK: 'This looks like a photo, not a live face',
};
const PROMPTS = {
  turnLeft: '↶ Turn your head to your left', turnRight: 'Turn your head to your right ↷',
  comeCloser: '⬤ Come closer to the camera', lookStraight: '◉ Look straight at the camera',
};
const REASONS = {
  FACE_MISMATCH: 'your face does not match the enrolled one', LIVENESS_FAILED: 'the liveness check failed',
  NONCE_REUSED_OR_UNKNOWN: 'this challenge was already used', CHALLENGE_EXPIRED: 'the challenge expired',
  REFERENCE_DECRYPT: 'this device has another key for this user', NO_DEVICE_SECRET: 'this device holds no key for this user',
  RATE_LIMITED: 'too many attempts: try again later', BAD_USERNAME: 'not a valid user name',
};

const LIVENESS_FAILURES = {
  NO_FACE: 'the face left the frame', MULTIPLE_FACES: 'several faces were seen', FACE_CHANGED: 'the face changed',
  PROMPT_TIMEOUT: 'a movement took too long', SESSION_TIMEOUT: 'the check took too long',
  WRONG_MOVEMENT: 'the head turned the other way', BAD_TIMESTAMPS: 'frames arrived out of order',
  PRESENTATION_ATTACK: 'a photo was shown instead of a live face',
};

let fp = null;
let mode = 'preview'; // or 'liveness'
let running = false;
let session = null; // login in progress: {challenge, reference, username}
let onboarding = null; // a reserved name and its enrollment token: {name, enrollmentToken, expiresAt}
let lastAnalysis = null;
const grabCanvas = document.createElement('canvas');
const frames = { n: 0, since: performance.now() };

const b64 = (u8) => { let s = ''; for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000)); return btoa(s); };
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');

function setResult(text, ok) {
  const r = $('result');
  r.textContent = text;
  r.className = `result ${ok === true ? 'ok' : ok === false ? 'bad' : ''}`;
}
const status = (t) => { $('status').textContent = t; };
// the server folds names to lowercase: the device keeps its secret under the same spelling
const username = () => $('username').value.trim().toLowerCase();

async function postJson(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { ok: res.ok, body: await res.json() };
}

function grab() {
  const v = $('video');
  grabCanvas.width = v.videoWidth;
  grabCanvas.height = v.videoHeight;
  const ctx = grabCanvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(v, 0, 0);
  return ctx.getImageData(0, 0, grabCanvas.width, grabCanvas.height);
}

function draw(faces, quality) {
  const v = $('video');
  const c = $('overlay');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const ctx = c.getContext('2d');
  ctx.clearRect(0, 0, c.width, c.height);
  const ok = quality && quality.usable;
  ctx.lineWidth = Math.max(2, c.width / 200);
  ctx.strokeStyle = ok ? '#2ecc71' : '#f39c12';
  for (const f of faces || []) {
    const [x0, y0, x1, y1] = f.box;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.fillStyle = ctx.strokeStyle;
    for (const [x, y] of f.keypoints.slice(0, 4)) ctx.fillRect(x - 2, y - 2, 4, 4);
  }
  const list = $('quality');
  list.innerHTML = '';
  const reasons = quality ? quality.reasons : [];
  if (quality && !reasons.length) list.innerHTML = '<li class="ok">Good frame</li>';
  for (const r of reasons) {
    const li = document.createElement('li');
    li.textContent = HINTS[r] || r;
    li.dataset.reason = r;
    list.appendChild(li);
  }
  $('enroll').disabled = !(ok && mode === 'preview' && username());
}

async function loop() {
  if (!running) return;
  const v = $('video');
  if (v.videoWidth && fp) {
    try {
      if (mode === 'liveness') {
        const p = await fp.livenessFrame(grab(), performance.now());
        showPrompt(p);
        if (p.done) await finishLogin(p);
      } else {
        lastAnalysis = await fp.analyze(grab(), { track: true });
        draw(lastAnalysis.faces, lastAnalysis.quality);
      }
    } catch (e) {
      status(`frame: ${e.code || ''} ${e.message}`);
    }
    frames.n++;
    const dt = performance.now() - frames.since;
    if (dt > 1000) {
      $('fps').textContent = `${(frames.n * 1000 / dt).toFixed(1)} fps`;
      frames.n = 0;
      frames.since = performance.now();
    }
  }
  requestAnimationFrame(loop);
}

async function startCamera() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, facingMode: 'user' }, audio: false });
  const v = $('video');
  v.srcObject = stream;
  await v.play();
  running = true;
  $('start-camera').disabled = true;
  status('camera on');
  requestAnimationFrame(loop);
}

async function compareId(file) {
  if (!file) return;
  if (!running) { $('compare-result').textContent = 'Start the camera first.'; return; }
  const bitmap = await createImageBitmap(file); // applies EXIF orientation
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  c.getContext('2d').drawImage(bitmap, 0, 0);
  const idImage = c.getContext('2d').getImageData(0, 0, bitmap.width, bitmap.height);
  try {
    const t = await fp.template(idImage, { detector: 'back', selection: 'largest' });
    const ms = Object.entries(t.times).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ');
    $('photo-timings').textContent = `ID photo: face found (score ${t.face.score.toFixed(2)}); ${ms}`;
    const r = await fp.compare(idImage, grab());
    const out = $('compare-result');
    out.textContent = `${r.samePerson ? 'Same person' : 'Different person'} (score ${r.score.toFixed(3)}, threshold ${r.threshold.toFixed(2)})`;
    out.className = `result ${r.samePerson ? 'ok' : 'bad'}`;
  } catch (e) {
    $('compare-result').textContent = `Could not compare: ${HINTS[e.code] || e.code || e.message}`;
    $('compare-result').className = 'result bad';
  }
}

async function enroll() {
  const user = username();
  if (!user) return;
  $('enroll').disabled = true;
  // Onboarding: a relying party issues the one-time enrollment token after its own identity
  // check; this demo issues one for any free name.
  // The token is kept for another try (the name stays reserved for it until it expires).
  if (!onboarding || onboarding.name !== user || onboarding.expiresAt < Date.now() + 60_000) {
    setResult('Reserving the name…');
    const onboarded = await postJson('/api/onboard', { username: user });
    if (!onboarded.ok) { setResult(`Onboarding refused: ${onboarded.body.message || onboarded.body.error}`, false); return; }
    const { enrollmentToken, username: name, expiresAt } = onboarded.body;
    onboarding = { name, enrollmentToken, expiresAt };
  }
  const { enrollmentToken, name } = onboarding;
  setResult('Enrolling: hold still…');
  await fp.clearCaptures();
  let kept = 0;
  for (let tries = 0; tries < 40 && kept < 3; tries++) {
    const r = await fp.capture(grab()).catch((e) => ({ captured: false, error: e }));
    if (r.captured) kept++;
    await new Promise((res) => setTimeout(res, 120));
  }
  if (kept < 3) { setResult('Could not get three good frames: follow the hints and try again.', false); return; }
  const deviceSecret = await fp.newDeviceSecret();
  // the server's share of the locks: it evaluates their blinded inputs (random points) under the
  // key it drew for this user at onboarding
  const evaluate = async (blinded) => {
    const r = await postJson('/api/enroll/evaluate', { username: name, enrollmentToken, blinded: b64(blinded) });
    if (!r.ok) throw Object.assign(new Error(r.body.message || r.body.error), { code: r.body.error });
    return unb64(r.body.evaluated);
  };
  const { reference, publicKey } = await fp.enroll({ deviceSecret, rpId: RP_ID, epoch: 1, evaluate });
  const enrolled = await postJson('/api/enroll', { username: name, enrollmentToken, publicKey: hex(publicKey), reference: b64(reference) });
  // the server uses a token up when it checks it: successful or not
  if (enrolled.ok || /^(ENROLLMENT_TOKEN|USERNAME_TAKEN)/.test(enrolled.body.error)) onboarding = null;
  if (!enrolled.ok) { deviceSecret.fill(0); setResult(`Enrollment refused: ${enrolled.body.message || enrolled.body.error}`, false); return; }
  await DeviceSecretStore.put(`${RP_ID}:${name}`, deviceSecret);
  deviceSecret.fill(0);
  setResult(`Enrolled as ${name}. The server stored a public key and a ${reference.length}-byte encrypted reference.`, true);
}

function showPrompt(p) {
  const el = $('prompt');
  el.hidden = !p.current;
  if (p.current) el.textContent = `${PROMPTS[p.current]}  (${p.step + 1}/${p.prompts.length})`;
  el.dataset.prompt = p.current || '';
}

async function loginStart() {
  const user = username();
  if (!user) return;
  setResult('Asking the server for a challenge…');
  const res = await fetch('/api/challenge', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user }) });
  const body = await res.json();
  if (!res.ok) { setResult(`Rejected: ${REASONS[body.error] || body.message} (${body.error})`, false); return; }
  session = { challenge: body.challenge, reference: unb64(body.reference), username: user };
  const p = await fp.startLiveness(session.challenge);
  $('challenge-info').textContent = `Challenge ${body.challenge.nonce.slice(0, 12)}… asks: ${p.prompts.map((x) => PROMPTS[x]).join(' → ')}`;
  $('challenge-info').dataset.prompts = p.prompts.join(',');
  showPrompt(p);
  mode = 'liveness';
  setResult('Follow the prompts on the video.');
  if (!running) status('start the camera to continue');
}

async function finishLogin(p) {
  mode = 'finishing';
  $('prompt').hidden = true;
  const s = session;
  session = null;
  try {
    if (!p.passed) {
      status(`liveness: ${LIVENESS_FAILURES[p.failure] || p.failure}`);
      throw Object.assign(new Error(LIVENESS_FAILURES[p.failure] || p.failure), { code: 'LIVENESS_FAILED' });
    }
    const deviceSecret = await DeviceSecretStore.get(`${RP_ID}:${s.username}`);
    if (!deviceSecret) throw Object.assign(new Error('this device holds no key for this user'), { code: 'NO_DEVICE_SECRET' });
    // the server's share of the locks: one evaluation for this challenge (it counts the guess)
    const evaluate = async (blinded) => {
      const r = await postJson('/api/evaluate', { username: s.username, nonce: s.challenge.nonce, blinded: b64(blinded) });
      if (!r.ok) throw Object.assign(new Error(r.body.message || r.body.error), { code: r.body.error });
      return unb64(r.body.evaluated);
    };
    const proof = await fp.prove({ deviceSecret, reference: s.reference, challenge: s.challenge, evaluate });
    deviceSecret.fill(0);
    const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: s.username, proof: b64(proof) }) });
    const body = await res.json();
    if (res.ok) setResult(`Logged in as ${body.user}.`, true);
    else setResult(`Rejected: ${REASONS[body.error] || body.message} (${body.error})`, false);
  } catch (e) {
    setResult(`Rejected: ${REASONS[e.code] || e.message} (${e.code || 'ERROR'})`, false);
  } finally {
    mode = 'preview';
  }
}

function tab(which) {
  $('tab-onboard').classList.toggle('active', which === 'onboard');
  $('tab-login').classList.toggle('active', which === 'login');
  $('onboard').hidden = which !== 'onboard';
  $('login').hidden = which !== 'login';
}

async function main() {
  $('start-camera').onclick = () => startCamera().catch((e) => status(`camera: ${e.message}`));
  $('enroll').onclick = () => enroll().catch((e) => setResult(`Enrollment failed: ${e.code || ''} ${e.message}`, false));
  $('login-start').onclick = () => loginStart().catch((e) => setResult(`Login failed: ${e.message}`, false));
  $('id-photo').onchange = (e) => compareId(e.target.files[0]);
  $('tab-onboard').onclick = () => tab('onboard');
  $('tab-login').onclick = () => tab('login');
  const t0 = performance.now();
  fp = await FaceProof.create({
    onProgress: ({ loaded, total }) => {
      $('load-progress').value = loaded / total;
      $('load-status').textContent = `Fetching the models… ${(loaded / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`;
    },
  });
  $('loading').hidden = true;
  status(`ready in ${Math.round(performance.now() - t0)} ms (${fp.timings.simd === 'relaxed' ? 'relaxed SIMD' : 'SIMD'})`);
  document.body.dataset.ready = '1';
  document.body.dataset.simd = fp.timings.simd;
}

main().catch((e) => { $('load-status').textContent = `Could not start: ${e.message}`; });
