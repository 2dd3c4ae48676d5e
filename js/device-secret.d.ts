// Types of DeviceSecretStore (device-secret.js): the device secret kept in IndexedDB, wrapped by
// a non-extractable AES-GCM key (WebCrypto). One record per name.

/**
 * Where the device secret lives. `name`: a string of 1-1024 characters (an rp id, or rp id and
 * user name, as the page chooses). A wrong argument rejects with a FaceproofError
 * (INVALID_ARGUMENT); nothing throws synchronously.
 */
export declare class DeviceSecretStore {
  /** The secret stored under `name`, or undefined when there is none. */
  static get(name: string): Promise<Uint8Array | undefined>;
  /** Store (replace) the secret (exactly 32 bytes) under `name`; the caller's bytes are not kept. */
  static put(name: string, secret: Uint8Array): Promise<void>;
  /** Forget the secret stored under `name` (revocation on this device). */
  static delete(name: string): Promise<void>;
}
