// Sign-in (password, then TOTP when the user has it), sign-out. The sign-in posts are the only
// bodies the console reads before authentication: each is capped at 4 KiB, and the source's
// request rate and failure delay are checked before the body is read.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/http/errors.ts';
import { html } from '../html.ts';
import { DEVICE_COOKIE } from '../reauth.ts';
import type { Attempt } from '../lockout.ts';
import { bare } from '../pages/layout.ts';
import { SESSION_COOKIE, secureCookies, sendPage, sessionOf, userOf } from '../plugin.ts';
import { signInBody, totpBody } from '../schemas.ts';
import type { ConsoleServices } from '../services.ts';

const PENDING_COOKIE = 'cc_pending';
const PENDING_TTL_S = 300;
const SIGN_IN_BODY_LIMIT = 4096;

/** Where to go after signing in: only a console path, never another site. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' &&
    /^\/console\/[A-Za-z0-9/_?=&%.-]*$/.test(next) &&
    !next.includes('..') &&
    !next.startsWith('/console/sign-')
    ? next
    : '/console/live';
}

function signInPage(o: { next: string; email?: string; error?: string }) {
  return bare(
    'Sign in',
    html`${o.error ? html`<p class="flash error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/console/sign-in" class="stack">
<input type="hidden" name="next" value="${o.next}">
<label>Email <input type="email" name="email" autocomplete="username" required maxlength="254" value="${o.email ?? ''}" autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required maxlength="200"></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

function totpPage(o: { next: string; error?: string }) {
  return bare(
    'Two-factor code',
    html`${o.error ? html`<p class="flash error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/console/sign-in/totp" class="stack">
<input type="hidden" name="next" value="${o.next}">
<label>Code from your authenticator app <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus></label>
<button type="submit">Verify</button>
</form>
<p><a href="/console/sign-in">Start again</a></p>`,
  );
}

const waitText = (ms: number) => `Too many failed attempts: try again in ${Math.ceil(ms / 1000)} s.`;

export function authRoutes(s: ConsoleServices) {
  return async function routes(app: FastifyInstance) {
    const pendingKey = (token: string) =>
      s.keys.plain('console', 'pending', createHash('sha256').update(token).digest('hex'));
    const redis = s.redis;

    /** Before the body: the source's request budget and failure delay. */
    const gate = async (req: FastifyRequest, reply: FastifyReply) => {
      if (!(await s.lockout.admitRequest(req.ip))) {
        reply.header('retry-after', '60');
        throw new AppError('AUTH_RATE_LIMITED', 'too many sign-in requests from this address');
      }
      const ms = await s.lockout.sourceWait(req.ip);
      if (ms > 0) {
        reply.header('retry-after', String(Math.ceil(ms / 1000)));
        return sendPage(reply, signInPage({ next: '/console/live', error: waitText(ms) }), 429);
      }
    };
    const pub = { console: { public: true } };

    const startSession = async (
      req: FastifyRequest,
      reply: FastifyReply,
      userId: string,
      a: Attempt,
      next: string,
    ) => {
      const device = await s.lockout.succeed(a);
      const { token } = await s.sessions.create(userId, {
        ip: req.ip,
        userAgent: req.headers['user-agent'] ?? '',
      });
      await s.users.repo.signedIn(userId);
      reply.setCookie(SESSION_COOKIE, token, {
        path: '/console',
        httpOnly: true,
        sameSite: 'strict',
        secure: secureCookies(req, s.config.PUBLIC_URL),
      });
      reply.setCookie(DEVICE_COOKIE, device, {
        path: '/console/sign-in',
        httpOnly: true,
        sameSite: 'strict',
        secure: secureCookies(req, s.config.PUBLIC_URL),
        maxAge: 90 * 86400,
      });
      req.log.info({ console_user: userId }, 'console sign-in');
      return reply.redirect(next, 303);
    };

    app.get('/sign-in', { config: pub }, async (req, reply) => {
      if (req.consoleUser) return reply.redirect('/console/live', 303);
      return sendPage(reply, signInPage({ next: safeNext((req.query as Record<string, unknown>).next) }));
    });

    app.post(
      '/sign-in',
      { config: pub, bodyLimit: SIGN_IN_BODY_LIMIT, onRequest: gate },
      async (req, reply) => {
        const b = signInBody.safeParse(req.body);
        const next = safeNext((req.body as Record<string, unknown> | undefined)?.next);
        if (!b.success)
          return sendPage(reply, signInPage({ next, error: 'Enter your email and password.' }), 400);
        const a: Attempt = {
          source: req.ip,
          account: b.data.email,
          device: req.cookies[DEVICE_COOKIE] ?? null,
        };
        const r = await s.users.signIn(b.data.email, b.data.password, a);
        if (r.kind === 'wait') {
          reply.header('retry-after', String(Math.ceil(r.ms / 1000)));
          return sendPage(reply, signInPage({ next, email: b.data.email, error: waitText(r.ms) }), 429);
        }
        if (r.kind === 'bad') {
          req.log.info('console sign-in refused');
          return sendPage(
            reply,
            signInPage({ next, email: b.data.email, error: 'Wrong email or password.' }),
            401,
          );
        }
        if (r.kind === 'totp') {
          const token = randomBytes(32).toString('base64url');
          await redis.set(
            pendingKey(token),
            JSON.stringify({ userId: r.user.id, account: r.user.email }),
            'EX',
            PENDING_TTL_S,
          );
          reply.setCookie(PENDING_COOKIE, token, {
            path: '/console/sign-in',
            httpOnly: true,
            sameSite: 'strict',
            secure: secureCookies(req, s.config.PUBLIC_URL),
            maxAge: PENDING_TTL_S,
          });
          return sendPage(reply, totpPage({ next }));
        }
        return startSession(req, reply, r.user.id, a, next);
      },
    );

    app.post(
      '/sign-in/totp',
      { config: pub, bodyLimit: SIGN_IN_BODY_LIMIT, onRequest: gate },
      async (req, reply) => {
        const next = safeNext((req.body as Record<string, unknown> | undefined)?.next);
        const token = req.cookies[PENDING_COOKIE] ?? '';
        const raw = token ? await redis.get(pendingKey(token)) : null;
        if (!raw)
          return sendPage(reply, signInPage({ next, error: 'Your sign-in expired: start again.' }), 401);
        const pending = JSON.parse(raw) as { userId: string; account: string };
        const b = totpBody.safeParse(req.body);
        if (!b.success) return sendPage(reply, totpPage({ next, error: 'Enter the six digits.' }), 400);
        const a: Attempt = {
          source: req.ip,
          account: pending.account,
          device: req.cookies[DEVICE_COOKIE] ?? null,
        };
        const r = await s.users.checkTotp(pending.userId, b.data.code, a);
        if (r.kind === 'wait') {
          reply.header('retry-after', String(Math.ceil(r.ms / 1000)));
          return sendPage(reply, totpPage({ next, error: waitText(r.ms) }), 429);
        }
        if (r.kind !== 'ok')
          return sendPage(reply, totpPage({ next, error: 'Wrong or already used code.' }), 401);
        await redis.del(pendingKey(token));
        reply.clearCookie(PENDING_COOKIE, { path: '/console/sign-in' });
        return startSession(req, reply, r.user.id, a, next);
      },
    );

    app.post('/sign-out', async (req, reply) => {
      const sess = sessionOf(req);
      await s.sessions.destroy(sess.id, userOf(req).id);
      reply.clearCookie(SESSION_COOKIE, { path: '/console' });
      return reply.redirect('/console/sign-in', 303);
    });

    app.get('/', { config: pub }, async (req, reply) =>
      reply.redirect(req.consoleUser ? '/console/live' : '/console/sign-in', 303),
    );
  };
}
