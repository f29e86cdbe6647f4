// The one catalogue of API error codes. Every 4xx/5xx body is {"error": {code, message, details?}}.
// docs/api.md "Errors" lists the same codes; test/unit/errors.test.ts keeps the two in step.
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  JSON_TOO_DEEP: 400,
  INVALID_TEXT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN_ROLE: 403,
  FORBIDDEN_IP: 403,
  CSRF_REFUSED: 403,
  REAUTH_FAILED: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  CONFLICT: 409,
  DUPLICATE: 409,
  IN_USE: 409,
  SELLER_ARCHIVED: 409,
  NOT_ARCHIVED: 409,
  EXTENSION_RANGE_EXHAUSTED: 409,
  APPLY_IN_PROGRESS: 409,
  NUMBER_UNAVAILABLE: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  AUTH_RATE_LIMITED: 429,
  KEY_RATE_LIMITED: 429,
  INTERNAL: 500,
  NOT_READY: 503,
  POOL_EXHAUSTED: 503,
  DEPENDENCY_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.statusCode = ERROR_CODES[code];
  }
}

export const notFound = (what: string, id?: string) =>
  new AppError('NOT_FOUND', id ? `${what} ${id} not found` : `${what} not found`);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
