// The Fastify app: request ids, metrics, the one error handler, OpenAPI, the auth plugin, health
// routes, then every domain's resource plugins. Built without listening, so tests can inject().
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Histogram } from 'prom-client';
import { z } from 'zod';
import type { AppDeps } from './context.ts';
import { AppError, ERROR_CODES, type ErrorBody } from './errors.ts';
import authPlugin from './auth.ts';
import {
  assertCleanInput,
  BODY_LIMIT,
  changesSomething,
  parseJsonBody,
  UNAUTHENTICATED_BODY_LIMIT,
} from './input.ts';
import healthRoutes from './routes/health.ts';

export type App = FastifyInstance;

const notFoundBody = (method: string, url: string): ErrorBody => ({
  error: { code: 'ROUTE_NOT_FOUND', message: `no route ${method} ${url.split('?')[0]}` },
});

const isEmptyObject = (b: unknown): boolean =>
  typeof b === 'object' && b !== null && !Array.isArray(b) && Object.keys(b).length === 0;

/** Builds the Fastify app without listening, so tests drive it through inject(). */
export async function buildApp(deps: AppDeps): Promise<App> {
  const trusted = deps.config.TRUSTED_PROXIES;
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // X-Forwarded-For is believed only when the peer itself is a listed proxy.
    trustProxy: trusted.length ? trusted : false,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && /^[\w.-]{1,64}$/.test(h) ? h : randomUUID();
    },
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: true } },
    // Errors the router raises before any hook (a path that is not valid percent-encoded UTF-8, a
    // path parameter over 100 characters) answer in the catalogue's shape too.
    frameworkErrors: (err, _req, reply) => {
      const status = err.statusCode ?? 400;
      const code = status === 414 ? 'URI_TOO_LONG' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
      const body: ErrorBody = { error: { code, message: err.message } };
      (reply as FastifyReply).status(ERROR_CODES[code]).send(body);
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('deps', deps);

  // ---- input, in lifecycle order: onRequest (404 here, then auth) -> body parser -> preValidation.
  // Fastify would read and parse a body sent to an unknown route before answering 404; answering
  // in onRequest means nothing of it is buffered or parsed.
  // Who the audit trail names for the request's changes: set by the API-key check or the console's
  // session check, passed by the routes to the services (platform/audit.ts).
  app.decorateRequest('actor', null);
  app.addHook('onRequest', (req, reply, done) => {
    // Answering from a callback hook means not calling done(): the lifecycle stops here.
    if (req.is404) reply.status(404).send(notFoundBody(req.method, req.url));
    else done();
  });
  app.addHook('onRoute', (route) => {
    // A route that asks for no key reads only a small body (sign-in forms), unless it says otherwise.
    if (!route.config?.auth && route.bodyLimit === undefined) route.bodyLimit = UNAUTHENTICATED_BODY_LIMIT;
    // A PATCH that changes nothing (`{}`, or only unknown fields) is a client error, not an empty
    // UPDATE. Added here once for every PATCH route.
    const schema = route.schema as { body?: unknown } | undefined;
    if (route.method === 'PATCH' && schema?.body instanceof z.ZodType)
      schema.body = schema.body.refine(changesSomething, 'nothing to change: name at least one field');
  });
  // The JSON parser runs only after onRequest (so after authentication) and reads at most the
  // route's body limit; the depth is checked on the text before JSON.parse.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, parseJsonBody(text as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addHook('preValidation', (req, _reply, done) => {
    try {
      assertCleanInput(req.params, 'params');
      assertCleanInput(req.query, 'query');
      assertCleanInput(req.body, 'body');
      if (req.method === 'PATCH' && isEmptyObject(req.body))
        throw new AppError('VALIDATION_FAILED', 'nothing to change: name at least one field');
      done();
    } catch (e) {
      done(e as Error);
    }
  });
  // While stopping, answers to requests still in flight close their connection, so a keep-alive
  // client cannot hold the server open past its last response.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  const httpDuration = new Histogram({
    name: 'capconduit_http_request_duration_seconds',
    help: 'API request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [deps.metrics],
  });
  // Both hooks run on every request, the dialers' hot path included: callback style, so no
  // promise is made and awaited per hook.
  app.addHook('onResponse', (req, reply, done) => {
    // The route pattern, never the raw URL: ids and query strings would explode the label space.
    httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    let status = 500;
    let body: ErrorBody;
    if (err instanceof AppError) {
      status = err.statusCode;
      body = {
        error: {
          code: err.code,
          message: err.message,
          ...(err.details !== undefined ? { details: err.details } : {}),
        },
      };
      if (err.headers) reply.headers(err.headers);
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      status = 400;
      body = {
        error: {
          code: 'VALIDATION_FAILED',
          message: `invalid ${err.validationContext ?? 'request'}`,
          details: err.validation.map((v) => ({
            path: (v.instancePath || '/').replace(/^\//, '').replace(/\//g, '.'),
            message: v.message,
          })),
        },
      };
    } else if (err.statusCode === 413) {
      status = 413;
      body = { error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' } };
    } else if (err.statusCode === 415) {
      status = 415;
      body = { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: err.message } };
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      body = { error: { code: 'BAD_REQUEST', message: err.message } };
    } else {
      req.log.error({ err }, 'unhandled error');
      body = { error: { code: 'INTERNAL', message: 'internal error' } };
    }
    if (status >= 500 && err instanceof AppError) req.log.warn({ code: err.code }, err.message);
    return sendError(req, reply.status(status), body);
  });

  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply.status(404), notFoundBody(req.method, req.url)),
  );

  // Who may call a route is declared once, in its auth config; the document states it from there
  // (roles in the description, the key schemes as its security), so the two cannot drift apart.
  app.addHook('onRoute', (route) => {
    const auth = (route.config as { auth?: { roles: readonly string[]; queryKey?: boolean } } | undefined)
      ?.auth;
    if (!auth || !route.schema) return;
    const schema = route.schema as { description?: string; security?: unknown };
    const who = `Roles: ${auth.roles.join(', ')}.${auth.queryKey ? ' The key may also come as ?key= (for dialers that cannot send headers).' : ''}`;
    schema.description = schema.description ? `${schema.description}\n\n${who}` : who;
    schema.security ??= [{ bearer: [] }, { apiKey: [] }];
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'CapConduit API', version: '0.1.0', description: 'Telephony control plane' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(authPlugin);
  await app.register(healthRoutes);
  for (const r of deps.routes ?? []) await app.register(r);
  return app as unknown as App;
}

/**
 * An error as JSON, or as one line of plain text (`CODE: message`) when the request asked for text
 * (`?format=text`, what Asterisk's CURL() reads on /next-cid): a dialplan must not have to parse JSON
 * to see why it got no number. The status and headers (Retry-After) are the same either way.
 */
function sendError(req: FastifyRequest, reply: FastifyReply, body: ErrorBody) {
  const q = req.query as Record<string, unknown> | undefined;
  if (q && typeof q === 'object' && q.format === 'text')
    return reply.type('text/plain; charset=utf-8').send(`${body.error.code}: ${body.error.message}\n`);
  return reply.send(body);
}
