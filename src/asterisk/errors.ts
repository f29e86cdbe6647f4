// The ways an ARI request fails, told apart because callers must act differently on each.
export class AriError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
    readonly method: string,
    readonly path: string,
  ) {
    super(`ARI ${method} ${path} -> ${status}: ${message}`);
    this.name = 'AriError';
  }
}

/**
 * No answer came: the request's outcome is unknown. `mayHaveHappened` is true once the request
 * left this process; the caller must then assume Asterisk did it (a `channels/create` that timed
 * out may have made the channel: look it up by the id we chose and clean it up).
 */
export class AriNoAnswerError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly path: string,
    readonly mayHaveHappened: boolean,
  ) {
    super(message);
    this.name = 'AriNoAnswerError';
  }
}

/** No answer within the request's time bound (in our queue or at Asterisk). */
export class AriTimeoutError extends AriNoAnswerError {
  constructor(method: string, path: string, ms: number, mayHaveHappened: boolean) {
    super(
      `ARI ${method} ${path} timed out after ${ms} ms${mayHaveHappened ? '' : ' (never sent)'}`,
      method,
      path,
      mayHaveHappened,
    );
    this.name = 'AriTimeoutError';
  }
}

/** The events WebSocket closed (or the client stopped) before the answer came. */
export class AriDisconnectedError extends AriNoAnswerError {
  constructor(method: string, path: string, why: string) {
    super(`ARI ${method} ${path}: ${why}`, method, path, true);
    this.name = 'AriDisconnectedError';
  }
}
