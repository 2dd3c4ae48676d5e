// Types of the faceproof browser API (index.js).

export declare const MODEL_FILES: readonly string[];
export declare function defaultModelUrls(): Record<string, string>;
export declare function imageDataFrom(source: CanvasImageSource, maxSide?: number): ImageData;

/** Stable error codes (also on errors from the Node verifier). */
export type ErrorCode =
  | 'BAD_IMAGE_SIZE' | 'IMAGE_DECODE' | 'MODEL_LOAD' | 'INFERENCE' | 'MODEL_NOT_LOADED'
  | 'NO_FACE' | 'MULTIPLE_FACES' | 'INVALID_ARGUMENT' | 'MALFORMED_REFERENCE' | 'REFERENCE_DECRYPT'
  | 'FACE_MISMATCH' | 'MALFORMED_PROOF' | 'RANDOMNESS' | 'BAD_SIGNATURE' | 'WRONG_PUBLIC_KEY'
  | 'WRONG_RP_ID' | 'CHALLENGE_EXPIRED' | 'NONCE_REUSED_OR_UNKNOWN' | 'WRONG_REFERENCE'
  | 'LIVENESS_FAILED' | 'WORKER' | 'INTERNAL';

export declare class FaceproofError extends Error {
  readonly code: ErrorCode;
}

export interface Frame {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

export interface Face {
  score: number;
  /** [x0, y0, x1, y1] in pixels. */
  box: [number, number, number, number];
  /** Eye (image-left), eye (image-right), nose tip, mouth centre, ear, ear. */
  keypoints: [number, number][];
}

export interface StageTimes {
  detect: number;
  landmarks: number;
  align: number;
  embed: number;
}

export interface TemplateResult {
  face: Face;
  facesSeen: number;
  times: StageTimes;
}

export interface EmbedOptions {
  /** 'front' (selfie, default) or 'back' (ID photo, small or distant faces). */
  detector?: 'front' | 'back';
  /** Mirror fusion (default true). */
  flip?: boolean;
  /** 'single' (default: MULTIPLE_FACES error), 'central', 'largest' (ID documents), 'strongest'. */
  selection?: 'single' | 'central' | 'largest' | 'strongest';
  /** Exactly the Python reference pipeline (4-point alignment). */
  reference?: boolean;
}

export interface Comparison {
  score: number;
  threshold: number;
  samePerson: boolean;
}

export interface Enrollment {
  /** Opaque encrypted reference: store it on the server. */
  reference: Uint8Array;
  /** Ristretto255 public key (32 bytes): store it on the server. */
  publicKey: Uint8Array;
}

export interface Challenge {
  rpId: string;
  /** 64 hex digits. */
  nonce: string;
  /** Unix time, milliseconds. */
  expiresAt: number;
}

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface CreateOptions {
  /** Override model URLs by file name (see MODEL_FILES). */
  models?: Partial<Record<string, string>>;
  onProgress?: (p: LoadProgress) => void;
  /** Bring your own worker (must run faceproof/worker.js). */
  worker?: Worker;
}

export declare class FaceProof {
  static create(options?: CreateOptions): Promise<FaceProof>;
  readonly timings: { wasmMs: number; fetchMs: number; loadMs: number };
  newDeviceSecret(): Promise<Uint8Array>;
  detect(frame: Frame, options?: { detector?: 'front' | 'back' }): Promise<Face[]>;
  analyze(frame: Frame, options?: EmbedOptions): Promise<unknown>;
  embed(frame: Frame, options?: EmbedOptions): Promise<Float32Array>;
  template(frame: Frame, options?: EmbedOptions): Promise<TemplateResult>;
  compare(idPhoto: Frame, selfie: Frame, options?: { idDetector?: 'front' | 'back'; selfieDetector?: 'front' | 'back' }): Promise<Comparison>;
  capture(frame: Frame, options?: EmbedOptions): Promise<TemplateResult>;
  clearCaptures(): Promise<void>;
  enroll(args: { deviceSecret: Uint8Array; rpId: string; epoch?: number }): Promise<Enrollment>;
  prove(args: { deviceSecret: Uint8Array; reference: Uint8Array; challenge: Challenge; livenessDigest?: Uint8Array }): Promise<Uint8Array>;
  terminate(): void;
}

export { DeviceSecretStore } from './device-secret.js';
