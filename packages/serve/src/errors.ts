/**
 * Every failure a client can see is a ServeError: an HTTP status, a stable code for programs and
 * one line for people that names the field at fault. Nothing else reaches a client: an unexpected
 * error becomes a 500 `internal` with no message of its own (no stack, no server path).
 */

export type ServeErrorCode =
  /** The request is malformed: a missing or wrong field, a body that is not JSON. */
  | 'invalid-request'
  /** An image field that is not an image, is corrupt, or is over the pixel limit. */
  | 'invalid-image'
  /** The body or an upload is over its size limit. */
  | 'too-large'
  /** A content type the endpoint does not take. */
  | 'unsupported-media-type'
  | 'unauthorized'
  | 'not-found'
  /** An enrolment id that already exists. */
  | 'conflict'
  /** The queue is full (Retry-After says when to try again). */
  | 'overloaded'
  /** The server is draining (SIGTERM) or not ready yet. */
  | 'unavailable'
  /** The worker running the request died; the request was not finished. */
  | 'worker-crashed'
  /** The request's deadline passed before it was answered. */
  | 'deadline'
  | 'internal';

export const STATUS: Readonly<Record<ServeErrorCode, number>> = {
  'invalid-request': 400,
  'invalid-image': 400,
  'too-large': 413,
  'unsupported-media-type': 415,
  unauthorized: 401,
  'not-found': 404,
  conflict: 409,
  overloaded: 503,
  unavailable: 503,
  'worker-crashed': 503,
  deadline: 504,
  internal: 500,
};

export class ServeError extends Error {
  override name = 'ServeError';
  readonly status: number;
  constructor(
    readonly code: ServeErrorCode,
    message: string,
    /** The request field at fault, when there is one. */
    readonly field?: string,
    /** Seconds, for the Retry-After header of a 503. */
    readonly retryAfter?: number,
  ) {
    super(message.replace(/\s*[\r\n]+\s*/g, '; ').trim());
    this.status = STATUS[code];
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: ServeErrorCode; readonly message: string; readonly field?: string };
}

export function errorBody(e: ServeError): ErrorBody {
  return {
    error: { code: e.code, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}) },
  };
}

/** Refused at startup (bad options, a gallery of another model): one line, for the CLI's exit 2. */
export class ServeConfigError extends Error {
  override name = 'ServeConfigError';
}
