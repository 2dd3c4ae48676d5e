// Where the device secret lives: IndexedDB, wrapped by a non-extractable AES-GCM key
// (WebCrypto), so that script reading the database gets ciphertext only. One record per
// relying party id.
import { bytesArg, checked, describe, invalid } from './errors.js';

/** The record name: a non-empty string (an rp id, or rp id and user name, as the page chooses). */
function keyArg(v) {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) {
    throw invalid(`the record name (rpId) must be a string of 1-1024 characters, not ${describe(v)}`);
  }
}

const DB = 'faceproof';
const STORE = 'secrets';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const req = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(req && req.result);
    t.onerror = () => reject(t.error);
  });
}

export class DeviceSecretStore {
  /** Read the secret for `rpId`, or undefined. */
  static async get(rpId) {
    checked(() => keyArg(rpId));
    const db = await open();
    const rec = await tx(db, 'readonly', (s) => s.get(rpId));
    db.close();
    if (!rec) return undefined;
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: rec.iv }, rec.key, rec.wrapped);
    return new Uint8Array(plain);
  }

  /** Store (replace) the secret for `rpId`. */
  static async put(rpId, secret) {
    secret = checked(() => {
      keyArg(rpId);
      return bytesArg(secret, 'secret', { exact: 32 }).slice();
    });
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    let wrapped;
    try {
      wrapped = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, secret);
    } finally {
      secret.fill(0); // our copy
    }
    const db = await open();
    await tx(db, 'readwrite', (s) => s.put({ key, iv, wrapped }, rpId));
    db.close();
  }

  /** Forget the secret (revocation on this device). */
  static async delete(rpId) {
    checked(() => keyArg(rpId));
    const db = await open();
    await tx(db, 'readwrite', (s) => s.delete(rpId));
    db.close();
  }
}
