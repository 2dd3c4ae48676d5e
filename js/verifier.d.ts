// Types of faceproof/verifier (Node.js): the relying party's side.
//
// Every function checks its arguments before calling into wasm and throws a FaceproofError
// (code INVALID_ARGUMENT) for a wrong type or size: no argument is coerced.

/** Stable codes of the errors the verifier throws. */
export type VerifierErrorCode =
  | 'INVALID_ARGUMENT' | 'MALFORMED_PROOF' | 'MALFORMED_REFERENCE' | 'UNSUPPORTED_VERSION' | 'INVALID_PUBLIC_KEY'
  | 'BAD_SIGNATURE' | 'WRONG_PUBLIC_KEY' | 'WRONG_RP_ID' | 'CHALLENGE_EXPIRED' | 'NONCE_REUSED_OR_UNKNOWN'
  | 'WRONG_REFERENCE' | 'LIVENESS_FAILED' | 'MALFORMED_EVALUATION' | 'RANDOMNESS' | 'INTERNAL';

/** Every error the verifier throws. */
export declare class FaceproofError extends Error {
  constructor(message: string, code: VerifierErrorCode, options?: { cause?: unknown });
  readonly code: VerifierErrorCode;
}

export interface Challenge {
  /** 1-255 printable ASCII characters. */
  rpId: string;
  /** 64 hex digits. */
  nonce: string;
  /** Unix time, milliseconds (a non-negative integer). */
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
  /** The embedder the reference was made with (a server refuses references of another one). */
  model: string;
  bytes: number;
}

/** The sizes arguments must keep to. */
export interface Limits {
  /** Largest valid proof (a 255-character rp id). */
  maxProofBytes: number;
  /** Largest reference the parser accepts. */
  maxReferenceBytes: number;
  /** A public key is exactly this long (32). */
  publicKeyBytes: number;
  /** A device secret is exactly this long (32). */
  deviceSecretBytes: number;
  /** An OPRF key is exactly this long (32). */
  oprfKeyBytes: number;
  /** One blinded or evaluated element (32). */
  elementBytes: number;
  /** Most elements a login's batch holds (what `RelyingParty.evaluate` and `evaluateBatch` take by default). */
  maxLoginElements: number;
  /** Longest rp id (255). */
  maxRpIdLength: number;
  /** Largest frame side in pixels (browser API). */
  maxImageSide: number;
}

/**
 * Stateless verification for servers that keep issued nonces in their own database.
 * `proof`: at most `limits().maxProofBytes`; `publicKey`: exactly 32 bytes; `reference`: at most
 * `limits().maxReferenceBytes`; `nowMs`: Unix time in ms, a non-negative integer (required);
 * `requireLiveness`: a boolean, left out means required.
 * Throws a FaceproofError whose `code` says why (BAD_SIGNATURE, CHALLENGE_EXPIRED, LIVENESS_FAILED, INVALID_ARGUMENT, …).
 */
export declare function verifyProof(proof: Uint8Array, issuedChallenge: Challenge, publicKey: Uint8Array, reference: Uint8Array, nowMs: number, requireLiveness?: boolean): Verified;
export declare function referenceInfo(reference: Uint8Array): ReferenceInfo;
export declare function newDeviceSecret(): Uint8Array;
export declare function limits(): Limits;
/** A fresh OPRF key for one user and epoch (32 bytes): keep it in the relying party's database. */
export declare function newOprfKey(): Uint8Array;
/**
 * Evaluate blinded elements (concatenated 32-byte elements) under a 32-byte OPRF key: enrollment,
 * or a login whose challenge you claimed in your own store. At most `maxElements` (an integer from 1
 * to 2^32-1; default `limits().maxLoginElements`); a longer batch is INVALID_ARGUMENT.
 */
export declare function evaluateBatch(oprfKey: Uint8Array, blinded: Uint8Array, maxElements?: number): Uint8Array;

/** Verifier with an in-memory single-use nonce store. */
export declare class RelyingParty {
  /** `rpId`: 1-255 printable ASCII characters; `ttlMs`: a positive integer (default 120000). */
  constructor(rpId: string, ttlMs?: number);
  /** `nowMs`: Unix time in ms, a non-negative integer (required). */
  issueChallenge(nowMs: number): Challenge;
  /**
   * Evaluate a login's blinded elements for the challenge with this nonce (64 hex digits): once per
   * issued, unexpired challenge at `nowMs` (required); a second call is NONCE_REUSED_OR_UNKNOWN.
   */
  evaluate(nonce: string, oprfKey: Uint8Array, blinded: Uint8Array, nowMs: number): Uint8Array;
  /** As `verifyProof`, against this party's issued challenges (the nonce is used up whatever the outcome). */
  verify(proof: Uint8Array, publicKey: Uint8Array, reference: Uint8Array, nowMs: number, requireLiveness?: boolean): Verified;
  /** Release the wasm memory now; later calls throw INVALID_ARGUMENT. */
  free(): void;
}
