// Requests to a daemon's Fastify app through inject(), signed with an API key (`x-api-key`), as the
// API tests make them: a body only when one is given.
import type { Daemon } from '../../src/main.ts';

/** `app` is read at each request, so the caller may be made before the daemon starts (in beforeAll). */
export const keyedRequests =
  (app: () => Daemon['app']) => (key: string, method: string, url: string, payload?: unknown) =>
    app().inject({
      method: method as 'GET',
      url,
      headers: { 'x-api-key': key },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
