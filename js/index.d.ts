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

export interface Quality {
  usable: boolean;
  reasons: ('NO_FACE' | 'MULTIPLE_FACES' | 'FACE_TOO_SMALL' | 'FACE_CUT_OFF' | 'TOO_DARK' | 'TOO_BRIGHT' | 'LOW_CONTRAST' | 'BLURRED' | 'HEAD_TURNED' | 'HEAD_TILTED' | 'LOW_CONFIDENCE' | 'FACE_UNCLEAR')[];
  measures: {
    faces: number; score: number; eyeDistancePx: number; outside: number; brightness: number;
    contrast: number; sharpness: number; yawDeg: number; rollDeg: number; embeddingNorm: number | null;
  };
}

export interface Analysis {
  faces: Face[];
  quality: Quality;
  ms: number;
}

export interface LivenessProgress {
  prompts: ('turnLeft' | 'turnRight' | 'comeCloser' | 'lookStraight')[];
  step: number;
  current: 'turnLeft' | 'turnRight' | 'comeCloser' | 'lookStraight' | null;
  done: boolean;
  passed: boolean;
  failure: 'NO_FACE' | 'MULTIPLE_FACES' | 'FACE_CHANGED' | 'PROMPT_TIMEOUT' | 'SESSION_TIMEOUT' | 'WRONG_MOVEMENT' | 'BAD_TIMESTAMPS' | null;
  needsEmbedding: boolean;
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
  /**
   * Override model URLs by file name (see MODEL_FILES). `create()` downloads the three models
   * verification needs; the ID-photo detector (blazeface_back_256.onnx) is downloaded and loaded
   * when a call first needs it (`compare`, `detector: 'back'`).
   */
  models?: Partial<Record<string, string>>;
  /** Override the .wasm URL (default: next to the module; the relaxed-SIMD build where supported). */
  wasmUrl?: string;
  /**
   * Threads for inference (default 1). Above 1, the threads build (./threads/, served next to the
   * worker; not copied by bundlers) runs where the page is cross-origin isolated (COOP + COEP
   * headers) and the browser has relaxed SIMD; elsewhere one thread. `timings.threads` says which.
   */
  threads?: number;
  onProgress?: (p: LoadProgress) => void;
  /** Bring your own worker (must run faceproof/worker.js). */
  worker?: Worker;
}

export declare class FaceProof {
  static create(options?: CreateOptions): Promise<FaceProof>;
  readonly timings: { wasmMs: number; fetchMs: number; loadMs: number; simd: 'relaxed' | 'simd128' | 'custom'; threads: number };
  newDeviceSecret(): Promise<Uint8Array>;
  detect(frame: Frame, options?: { detector?: 'front' | 'back' }): Promise<Face[]>;
  /** `track: true` for consecutive frames of one video: the detector runs on one frame in four. */
  analyze(frame: Frame, options?: EmbedOptions & { track?: boolean }): Promise<Analysis>;
  embed(frame: Frame, options?: EmbedOptions): Promise<Float32Array>;
  template(frame: Frame, options?: EmbedOptions): Promise<TemplateResult>;
  compare(idPhoto: Frame, selfie: Frame, options?: { idDetector?: 'front' | 'back'; selfieDetector?: 'front' | 'back' }): Promise<Comparison>;
  capture(frame: Frame, options?: EmbedOptions): Promise<{ captured: boolean; quality: Quality; face: Face; times: StageTimes }>;
  startLiveness(challenge: Challenge): Promise<LivenessProgress>;
  livenessFrame(frame: Frame, timeMs?: number): Promise<LivenessProgress>;
  clearCaptures(): Promise<void>;
  enroll(args: { deviceSecret: Uint8Array; rpId: string; epoch?: number }): Promise<Enrollment>;
  prove(args: { deviceSecret: Uint8Array; reference: Uint8Array; challenge: Challenge }): Promise<Uint8Array>;
  terminate(): void;
}

export { DeviceSecretStore } from './device-secret.js';
