import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger };

// Paths pino removes from every log line. Anything that can carry a credential is listed here,
// so a careless `log.info({ req })` or `log.info({ body })` still cannot leak one.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.query.key',
  'query.key',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.api_key',
  '*.key',
  '*.token',
  '*.auth',
  '*.ariPassword',
  '*.amiSecret',
  '*.masterKey',
  '*.sipPassword',
  '*.sip_password',
  '*.apiSecret',
  '*.api_secret',
  'password',
  'secret',
  'apiKey',
  'masterKey',
  'body.password',
  'body.secret',
  'body.api_secret',
];

export function createLogger(opts: {
  level: string;
  pretty?: boolean | undefined;
  name?: string;
  destination?: pino.DestinationStream;
}): Logger {
  const pretty = !opts.destination && (opts.pretty ?? process.stdout.isTTY === true);
  const base: LoggerOptions = {
    level: opts.level,
    name: opts.name ?? 'capconduit',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // URLs may carry `key=` (dialplans pass the API key that way) or `api_key=`: mask the value.
    serializers: {
      req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url ?? ''),
        ip: req.ip,
      }),
    },
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return opts.destination ? pino(base, opts.destination) : pino(base);
}

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:key|api_key|apikey|password|secret)=)[^&]*/gi, '$1[redacted]');
}

const SEVERITY = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 } as const;
export type LogLevel = keyof typeof SEVERITY;
/** The more severe of two log levels (pure): a route may log less than the daemon, never more. */
export function stricterLevel(a: LogLevel, b: LogLevel): LogLevel {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}
