// Types of the faceproof browser API (index.js).
//
// Every FaceProof method returns a Promise and never throws synchronously: a wrong argument
// (checked in the page before anything reaches the worker), a terminated engine or a failure in
// the engine rejects it with a FaceproofError whose `code` says why.

export declare const MODEL_FILES: readonly string[];
/** The two passive anti-spoofing models ('antispoof_2.7_80.onnx', 'antispoof_4.0_80.onnx'). */
export declare const ANTISPOOF_MODELS: readonly string[];
export declare function defaultModelUrls(): Record<string, string>;
export declare function imageDataFrom(source: CanvasImageSource, maxSide?: number): ImageData;

/** Stable error codes (also on errors from the Node verifier). */
export type ErrorCode =
  | 'BAD_IMAGE_SIZE' | 'IMAGE_DECODE' | 'MODEL_LOAD' | 'WASM_LOAD' | 'INFERENCE' | 'MODEL_NOT_LOADED'
  | 'NO_FACE' | 'MULTIPLE_FACES' | 'INVALID_ARGUMENT' | 'MALFORMED_REFERENCE' | 'REFERENCE_DECRYPT'
  | 'UNSUPPORTED_VERSION' | 'MODEL_MISMATCH' | 'MALFORMED_EVALUATION' | 'INVALID_PUBLIC_KEY'
  | 'FACE_MISMATCH' | 'MALFORMED_PROOF' | 'RANDOMNESS' | 'BAD_SIGNATURE' | 'WRONG_PUBLIC_KEY'
  | 'WRONG_RP_ID' | 'CHALLENGE_EXPIRED' | 'NONCE_REUSED_OR_UNKNOWN' | 'WRONG_REFERENCE'
  | 'LIVENESS_FAILED' | 'EVALUATION_FAILED' | 'TERMINATED' | 'WORKER' | 'INTERNAL';

/**
 * Every error from faceproof. INVALID_ARGUMENT: an argument of the wrong type or size;
 * BAD_IMAGE_SIZE: a frame whose sizes do not fit its bytes (or an empty frame); TERMINATED: a
 * call after (or pending at) `terminate()`; WASM_LOAD / MODEL_LOAD: a URL that did not load
 * (the message names it).
 */
export declare class FaceproofError extends Error {
  constructor(message: string, code: ErrorCode, options?: { cause?: unknown });
  readonly code: ErrorCode;
}

/** RGBA pixels (ImageData is one): positive integer sizes up to 8192, data.length === width * height * 4. */
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

/** The passive anti-spoofing check on a frame: live when `score >= threshold`. */
export interface LiveScore {
  /** Probability that the face is live (not a printed photo), 0..1. */
  score: number;
  threshold: number;
}

export type QualityReason =
  | 'NO_FACE' | 'MULTIPLE_FACES' | 'FACE_TOO_SMALL' | 'FACE_CUT_OFF' | 'TOO_DARK' | 'TOO_BRIGHT'
  | 'LOW_CONTRAST' | 'BLURRED' | 'HEAD_TURNED' | 'HEAD_TILTED' | 'LOW_CONFIDENCE' | 'FACE_UNCLEAR'
  /** The passive check judged the face a presentation attack (a printed photo). */
  | 'PRESENTATION_ATTACK';

export interface Quality {
  usable: boolean;
  reasons: QualityReason[];
  measures: {
    faces: number; score: number; eyeDistancePx: number; outside: number; brightness: number;
    contrast: number; sharpness: number; yawDeg: number; rollDeg: number; embeddingNorm: number | null;
  };
  /**
   * The passive anti-spoofing check, or null when it did not run (no face, or its models were
   * not loaded: `create({antispoof: false})`). null is never a pass.
   */
  liveScore: LiveScore | null;
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
  failure: 'NO_FACE' | 'MULTIPLE_FACES' | 'FACE_CHANGED' | 'PROMPT_TIMEOUT' | 'SESSION_TIMEOUT' | 'WRONG_MOVEMENT' | 'BAD_TIMESTAMPS' | 'PRESENTATION_ATTACK' | null;
  /**
   * The passive anti-spoofing check over the frames that completed prompts: 'notRun' until it
   * has run on each (for good without its models), 'failed' on a presentation attack. A relying
   * party that requires liveness accepts a proof only after `passed: true` and `passive: 'passed'`.
   */
  passive: 'notRun' | 'failed' | 'passed';
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

/**
 * Download progress of `create()`, over everything it downloads (the .wasm module and the
 * models): `total` is the bytes of all of them, the same in every report; `loaded` never
 * decreases and the last report has `loaded === total`.
 */
export interface LoadProgress {
  /** The file whose bytes just arrived (a file name in the package, or the URL passed for it). */
  file: string;
  /** Bytes downloaded so far, over all files. */
  loaded: number;
  /** Bytes of all files. */
  total: number;
}

export interface CreateOptions {
  /**
   * Override model URLs by file name (see MODEL_FILES). `create()` downloads the three models
   * verification needs and the two anti-spoofing models (unless `antispoof: false`); the ID-photo detector (blazeface_back_256.onnx) is downloaded and loaded
   * when a call first needs it (`compare`, `detector: 'back'`).
   */
  models?: Partial<Record<string, string | URL>>;
  /** Override the .wasm URL (default: next to the module; the relaxed-SIMD build where supported). A URL that does not load rejects `create()` with WASM_LOAD. */
  wasmUrl?: string | URL;
  /**
   * Threads for inference (default 1). Above 1, the threads build (./threads/, served next to the
   * worker; not copied by bundlers) runs where the page is cross-origin isolated (COOP + COEP
   * headers) and the browser has relaxed SIMD; elsewhere one thread. `timings.threads` says which.
   */
  threads?: number;
  /**
   * Download progress, e.g. `bar.value = loaded / total`. The package's files have their sizes
   * listed in the package; a file at a URL passed in `models` or `wasmUrl` has its Content-Length
   * (without one, progress is reported once that file is read whole). The ID-photo detector,
   * downloaded on first use, is not part of it.
   */
  onProgress?: (p: LoadProgress) => void;
  /** Bring your own worker (must run faceproof/worker.js). */
  worker?: Worker;
  /**
   * Load the passive anti-spoofing models (default true, about 0.9 MB). `false` skips them:
   * `quality.liveScore` is then null, and a liveness run cannot produce a proof that a relying
   * party requiring liveness accepts.
   */
  antispoof?: boolean;
}

/** The relying party's OPRF evaluation of blinded lock inputs (concatenated 32-byte elements): resolves to as many bytes. */
export type Evaluate = (blinded: Uint8Array) => Promise<Uint8Array>;

/** An ID photo's and a selfie's detectors for `compare` (default 'back' and 'front'). */
export interface CompareOptions {
  idDetector?: 'front' | 'back';
  selfieDetector?: 'front' | 'back';
}

export declare class FaceProof {
  static create(options?: CreateOptions): Promise<FaceProof>;
  /** Whether the passive anti-spoofing check runs (its models loaded). */
  readonly antispoof: boolean;
  readonly timings: { wasmMs: number; fetchMs: number; loadMs: number; simd: 'relaxed' | 'simd128' | 'custom'; threads: number };
  newDeviceSecret(): Promise<Uint8Array>;
  detect(frame: Frame, options?: { detector?: 'front' | 'back' }): Promise<Face[]>;
  /** `track: true` for consecutive frames of one video: the detector runs on one frame in four. */
  analyze(frame: Frame, options?: EmbedOptions & { track?: boolean }): Promise<Analysis>;
  embed(frame: Frame, options?: EmbedOptions): Promise<Float32Array>;
  template(frame: Frame, options?: EmbedOptions): Promise<TemplateResult>;
  /** A NO_FACE (or other) error names the image: "ID photo: no face found". */
  compare(idPhoto: Frame, selfie: Frame, options?: CompareOptions): Promise<Comparison>;
  capture(frame: Frame, options?: EmbedOptions): Promise<{ captured: boolean; quality: Quality; face: Face; times: StageTimes }>;
  startLiveness(challenge: Challenge): Promise<LivenessProgress>;
  /** `timeMs`: a finite non-negative number (default performance.now()). */
  livenessFrame(frame: Frame, timeMs?: number): Promise<LivenessProgress>;
  clearCaptures(): Promise<void>;
  /**
   * `deviceSecret`: 32 bytes; `rpId`: 1-255 printable ASCII characters; `epoch`: an integer from 0
   * to 2^32-1 (default 1); `evaluate`: sends the blinded lock inputs to the relying party and
   * resolves to its evaluation (as many bytes); an error it throws keeps its `code` (else EVALUATION_FAILED).
   */
  enroll(args: { deviceSecret: Uint8Array; rpId: string; epoch?: number; evaluate: Evaluate }): Promise<Enrollment>;
  /**
   * `reference`: as enrollment made it (at most the largest valid reference); `requireLiveness`
   * (default true): LIVENESS_FAILED without a passed liveness run for this challenge (prompts
   * passed and passive anti-spoofing check passed).
   */
  prove(args: { deviceSecret: Uint8Array; reference: Uint8Array; challenge: Challenge; evaluate: Evaluate; requireLiveness?: boolean }): Promise<Uint8Array>;
  /** Stop the worker: calls pending then, and every later call, reject with TERMINATED. */
  terminate(): Promise<void>;
}

export { DeviceSecretStore } from './device-secret.js';
