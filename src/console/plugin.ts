// The console's Fastify plugin, mounted at /console in the daemon's app (same process and port as
// the API). Everything console-wide lives here: security headers, cookies, form bodies, the
// session check before any body is read, CSRF on every change, and HTML error pages.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { AppError } from '../platform/http/errors.ts';
import { isPgUnavailable } from '../platform/pg-errors.ts';
import { isRedisUnavailable } from '../platform/redis/client.ts';
import type { ConsoleRole } from '../db/schema/console.ts';
import { may } from './access.ts';
import { type Html, html } from './html.ts';
import { bare, layout } from './pages/layout.ts';
import { csrfMatches, type Session } from './sessions.ts';
import type { ConsoleUser } from './users.ts';
import type { ConsoleServices } from './services.ts';

export const SESSION_COOKIE = 'cc_session';
/** Form posts are small; the only larger bodies are the CSV imports, which set their own limit. */
export const FORM_BODY_LIMIT = 64 * 1024;

export interface ConsoleRouteConfig {
  /** Reachable signed out (sign-in, assets). */
  public?: boolean;
  /** Roles allowed; default: every role. */
  roles?: readonly ConsoleRole[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    console?: ConsoleRouteConfig;
  }
  interface FastifyRequest {
    consoleUser: ConsoleUser | null;
    consoleSession: Session | null;
  }
}

/** The signed-in user (routes that are not public only run with one). */
export function userOf(req: FastifyRequest): ConsoleUser {
  if (!req.consoleUser) throw new AppError('UNAUTHENTICATED', 'sign in first');
  return req.consoleUser;
}

export function sessionOf(req: FastifyRequest): Session {
  if (!req.consoleSession) throw new AppError('UNAUTHENTICATED', 'sign in first');
  return req.consoleSession;
}

export const wantsHtml = (req: FastifyRequest) =>
  (req.headers.accept ?? '').includes('text/html') || req.headers['sec-fetch-dest'] === 'document';

/** The live floor's EventSource (it says `Accept: text/event-stream`). */
const wantsEvents = (req: FastifyRequest) => (req.headers.accept ?? '').includes('text/event-stream');

export function sendPage(reply: FastifyReply, page: Html, status = 200) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page.value);
}

/**
 * Whether `url` is one of this console's own origins: the Host the request came to, the host a
 * trusted proxy says it came to (X-Forwarded-Host, as TRUSTED_PROXIES lets Fastify read), or the
 * origin of PUBLIC_URL (a reverse proxy that rewrites Host to the daemon's own address still serves
 * the pages from there).
 */
function ownOrigin(req: FastifyRequest, url: string, publicUrl: string | undefined): boolean {
  try {
    const u = new URL(url);
    if (u.host === req.headers.host || u.host === req.host) return true;
    return publicUrl !== undefined && u.origin === new URL(publicUrl).origin;
  } catch {
    return false;
  }
}

/**
 * A change must come from our own pages: a browser that says where the request comes from must say
 * this origin (Origin, or Sec-Fetch-Site), on top of the token check.
 */
export function sameOrigin(req: FastifyRequest, publicUrl?: string): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return true;
  return ownOrigin(req, origin, publicUrl);
}

/**
 * Cookies only over HTTPS when the browser reaches the console over HTTPS: the request came over it
 * (directly, or as a trusted proxy says), or PUBLIC_URL is https (a proxy terminating TLS that is not
 * in TRUSTED_PROXIES, or does not say X-Forwarded-Proto).
 */
export const secureCookies = (req: FastifyRequest, publicUrl: string | undefined) =>
  req.protocol === 'https' || publicUrl?.startsWith('https:') === true;

/**
 * The daemon's address as others reach it, for what the console prints for them to call: PUBLIC_URL
 * when set, else the origin this request came in on (behind a proxy, as TRUSTED_PROXIES lets it say).
 */
export function publicUrl(req: FastifyRequest, configured: string | undefined): string {
  return configured ?? `${req.protocol}://${req.host}`;
}

/** How long a page that could not be served for a missing dependency waits before it reloads itself. */
const RETRY_S = 5;

/**
 * What is unavailable while Redis does not answer, in words, for the page asked: sessions live there,
 * so every signed-in page waits for it; the live floor and caller-ID usage are counted there too.
 */
export function redisDownMessage(path: string): string {
  const what = path.startsWith('/console/sign-in')
    ? 'sign-in is unavailable: sessions and sign-in delays are kept there'
    : path.startsWith('/console/live')
      ? 'the live floor is unavailable: sessions and the usage against caps are kept there'
      : path.startsWith('/console/caller-ids')
        ? 'caller-ID pages are unavailable: sessions and caller-ID usage are kept there'
        : 'pages are unavailable: the sessions that sign you in are kept there';
  return `Redis is not answering right now, so ${what}. Try again in a moment.`;
}

/** Where an error page's Back link goes: the console page the request came from, if any. */
function backOf(req: FastifyRequest, publicUrl: string | undefined): string {
  const ref = req.headers.referer ?? '';
  if (!ownOrigin(req, ref, publicUrl)) return '/console/live';
  const u = new URL(ref);
  return u.pathname.startsWith('/console/') ? u.pathname + u.search : '/console/live';
}

/** A route of the console as registered: what the signed-out check must cover. */
export interface ConsoleRoute {
  method: string;
  url: string;
  public: boolean;
}

export function consolePlugin(
  services: ConsoleServices,
  routes: Array<(app: FastifyInstance) => Promise<void>>,
  /** Filled with every route registered (a test checks each needs a session unless public). */
  seen: ConsoleRoute[] = [],
) {
  return async function consoleRoutes(app: FastifyInstance) {
    await app.register(cookie);
    await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT });
    await app.register(helmet, {
      // No inline script or style anywhere: the pages load one script and one stylesheet.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          // A call's recording plays from the daemon itself.
          mediaSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: true,
      referrerPolicy: { policy: 'same-origin' },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    });
    // Pages, not API: kept out of the OpenAPI document.
    app.addHook('onRoute', (route) => {
      route.schema = { ...(route.schema ?? {}), hide: true };
      const open = (route.config as { console?: ConsoleRouteConfig } | undefined)?.console?.public === true;
      for (const method of [route.method].flat()) seen.push({ method, url: route.url, public: open });
    });
    app.decorateRequest('consoleUser', null);
    app.decorateRequest('consoleSession', null);

    // Runs before any body is read: a request without a live session gets nowhere, whatever it sends.
    app.addHook('onRequest', async (req, reply) => {
      const cfg = req.routeOptions.config.console ?? {};
      const token = req.cookies[SESSION_COOKIE];
      if (token) {
        // With Redis down no session can be read: a public page (sign-in) is shown signed out,
        // any other is the error page that says Redis is not answering.
        const s = await services.sessions.get(token).catch((err: unknown) => {
          if (cfg.public && isRedisUnavailable(err)) return null;
          throw err;
        });
        const u = s ? await services.users.get(s.userId) : null;
        if (s && u) {
          req.consoleSession = s;
          req.consoleUser = u;
          req.actor = { type: 'console_user', id: u.id, label: u.email };
        } else if (s) await services.sessions.destroy(s.id, s.userId);
      }
      if (cfg.public) return;
      if (!req.consoleUser) {
        if (req.method === 'GET' && wantsHtml(req)) {
          const next = req.url.startsWith('/console/') ? `?next=${encodeURIComponent(req.url)}` : '';
          return reply.redirect(`/console/sign-in${next}`, 303);
        }
        throw new AppError('UNAUTHENTICATED', 'sign in first');
      }
      if (cfg.roles && !may(req.consoleUser, cfg.roles))
        throw new AppError('FORBIDDEN_ROLE', `role ${req.consoleUser.role} may not use this page`);
    });

    // Every change carries the session's CSRF token (form field or header) and comes from this origin.
    app.addHook('preHandler', async (req) => {
      if (req.method === 'GET' || req.method === 'HEAD') return;
      if (!sameOrigin(req, services.config.PUBLIC_URL))
        throw new AppError('CSRF_REFUSED', 'request from another site refused');
      const cfg = req.routeOptions.config.console ?? {};
      if (cfg.public) return;
      const s = sessionOf(req);
      const presented =
        (req.body as Record<string, unknown> | undefined)?._csrf ?? req.headers['x-csrf-token'];
      if (!csrfMatches(presented, s.csrf)) throw new AppError('CSRF_REFUSED', 'missing or wrong CSRF token');
    });

    app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      let status = 500;
      let code = 'INTERNAL';
      let message = 'internal error';
      let details: unknown;
      if (err instanceof AppError) {
        status = err.statusCode;
        code = err.code;
        message = err.message;
        details = err.details;
        if (err.headers) reply.headers(err.headers);
      } else if (err instanceof ZodError) {
        status = 400;
        code = 'VALIDATION_FAILED';
        message = err.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('; ');
      } else if (isPgUnavailable(err)) {
        // The database is down or restarting: a page that says so and offers the same page again.
        status = 503;
        code = 'DEPENDENCY_UNAVAILABLE';
        message = 'the database is not answering right now; try again in a moment';
        reply.header('retry-after', String(RETRY_S));
        req.log.warn({ err }, 'console: database unavailable');
      } else if (isRedisUnavailable(err)) {
        status = 503;
        code = 'DEPENDENCY_UNAVAILABLE';
        message = redisDownMessage(req.url);
        reply.header('retry-after', String(RETRY_S));
        req.log.warn({ err: err.message }, 'console: Redis unavailable');
      } else if (err.statusCode === 413) {
        status = 413;
        code = 'PAYLOAD_TOO_LARGE';
        message = 'request body too large';
      } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        status = err.statusCode;
        code = 'BAD_REQUEST';
        message = err.message;
      } else req.log.error({ err }, 'console: unhandled error');
      // The live floor's stream while a server it needs is away: EventSource cannot read an error's
      // body and stops retrying on one, so the reason travels as an event of a stream that ends; the
      // browser comes back after `retry` and the page says why meanwhile (console.js). Refusals
      // (signed out, not allowed) keep their status: there is nothing to come back for.
      if (status === 503 && wantsEvents(req)) {
        reply.hijack();
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        });
        reply.raw.end(
          `retry: ${RETRY_S * 1000}\nevent: failed\ndata: ${JSON.stringify({ status, code, message })}\n\n`,
        );
        return;
      }
      if (!wantsHtml(req))
        return reply
          .status(status)
          .send({ error: { code, message, ...(details !== undefined ? { details } : {}) } });
      const again = status === 503 && req.method === 'GET';
      // The page tries again by itself (no script needed) until what it needs is back.
      if (again) reply.header('refresh', String(RETRY_S));
      const body = html`<p class="flash error" role="alert"><strong>${code}</strong>: ${message}</p>
<p>${again ? html`<a href="${req.url}" id="try-again">Try again</a> · ` : ''}<a href="${backOf(req, services.config.PUBLIC_URL)}">Back</a></p>`;
      const title =
        status === 403
          ? 'Not allowed'
          : status === 404
            ? 'Not found'
            : status === 503
              ? 'Not available right now'
              : 'Something went wrong';
      const page =
        req.consoleUser && req.consoleSession
          ? layout({ user: req.consoleUser, csrf: req.consoleSession.csrf, path: req.url }, title, body)
          : bare(title, body);
      return sendPage(reply, page, status);
    });

    for (const r of routes) await app.register(r);
  };
}
