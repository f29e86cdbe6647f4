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
