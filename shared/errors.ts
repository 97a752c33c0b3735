// Client errors as named classes; each maps once, at the HTTP edge, to Rollbar's `{"err":1}` answer.

export abstract class ClientError extends Error {
  abstract readonly statusCode: number;
  /** Headers the answer carries besides its body (a 429's rate-limit headers). */
  readonly headers?: Record<string, string>;
}

/** 400: the body could not be read at all (not JSON, not an object, bad form encoding). */
export class BadRequestError extends ClientError {
  override readonly name = 'BadRequestError';
  readonly statusCode = 400;
}

/** 403, as Rollbar answers it: no access token was sent. */
export class MissingTokenError extends ClientError {
  override readonly name = 'MissingTokenError';
  readonly statusCode = 403;
  constructor() {
    super('missing access token');
  }
}

/** 403: the token is unknown, disabled, or lacks the scope the request needs. */
export class AccessDeniedError extends ClientError {
  override readonly name = 'AccessDeniedError';
  readonly statusCode = 403;
}

/** 404: the item, occurrence or deploy does not exist in the token's project. */
export class NotFoundError extends ClientError {
  override readonly name = 'NotFoundError';
  readonly statusCode = 404;
}

/** 405: the path is a route, of other methods; `Allow` names them. */
export class MethodNotAllowedError extends ClientError {
  override readonly name = 'MethodNotAllowedError';
  readonly statusCode = 405;
  override readonly headers: Record<string, string>;
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(`${method} is not allowed on ${path}: use ${allowed.join(' or ')}`);
    this.headers = { allow: allowed.join(', ') };
  }
}

/** 413: the body is over the documented size limit. */
export class PayloadTooLargeError extends ClientError {
  override readonly name = 'PayloadTooLargeError';
  readonly statusCode = 413;
}

/** 422: the JSON is well formed but not a valid Rollbar payload. */
export class ValidationError extends ClientError {
  override readonly name = 'ValidationError';
  readonly statusCode = 422;
}

/** 429: the access token made more calls this minute than its rate limit allows; nothing was done. */
export class RateLimitExceededError extends ClientError {
  override readonly name = 'RateLimitExceededError';
  readonly statusCode = 429;
  constructor(
    message: string,
    override readonly headers: Record<string, string>,
  ) {
    super(message);
  }
}
