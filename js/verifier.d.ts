// Types of faceproof/verifier (Node.js): the relying party's side.

export interface Challenge {
  rpId: string;
  /** 64 hex digits. */
  nonce: string;
  /** Unix time, milliseconds. */
  expiresAt: number;
}

export interface Verified {
  ok: true;
  rpId: string;
  nonce: string;
}

export interface ReferenceInfo {
  rpId: string;
  epoch: number;
  /** 64 hex digits. */
  publicKey: string;
  bytes: number;
}

/** Throws an Error whose `code` says why (BAD_SIGNATURE, CHALLENGE_EXPIRED, NONCE_REUSED_OR_UNKNOWN, …). */
export declare function verifyProof(proof: Uint8Array, issuedChallenge: Challenge, publicKey: Uint8Array, reference: Uint8Array, nowMs: number, requireLiveness: boolean): Verified;
export declare function referenceInfo(reference: Uint8Array): ReferenceInfo;
export declare function newDeviceSecret(): Uint8Array;

/** Verifier with an in-memory single-use nonce store. */
export declare class RelyingParty {
  constructor(rpId: string, ttlMs?: number);
  issueChallenge(nowMs: number): Challenge;
  verify(proof: Uint8Array, publicKey: Uint8Array, reference: Uint8Array, nowMs: number, requireLiveness: boolean): Verified;
  free(): void;
}
