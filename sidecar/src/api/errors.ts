/**
 * Every error the HTTP API answers with, in one table: the stable `code` clients and runbooks
 * match on, and its HTTP status. Bodies have Fastify's shape, `{ statusCode, code, error, message }`.
 */
export const API_ERRORS = {
  /** Admin routes with no token configured: refused, never open. */
  HB_API_ADMIN_DISABLED: 403,
  HB_API_TOKEN_MISSING: 401,
  HB_API_TOKEN_WRONG: 401,
  /** Body or query string fails its schema, or is not parseable JSON. */
  HB_API_BAD_REQUEST: 400,
  HB_API_BODY_TOO_LARGE: 413,
  HB_API_UNSUPPORTED_MEDIA_TYPE: 415,
  HB_API_NOT_FOUND: 404,
  HB_API_UNKNOWN_GROUP: 404,
  /** The daemon could not accept an admin command. */
  HB_API_ADMIN_FAILED: 500,
  HB_API_INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly statusCode: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.statusCode = API_ERRORS[code];
  }
}
