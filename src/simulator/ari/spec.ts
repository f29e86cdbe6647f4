// The route table's machinery: an ARI operation's spec (operations.ts), the route that binds a
// handler to it, the path tree Asterisk resolves requests with, the argument parsing its generated
// code does, and the Swagger 1.1 documents generated from the same routes.
import { MODELS, REQUIRES_MODULES } from './models.ts';

export interface OperationSpec {
  resource: string;
  httpMethod: string;
  path: string;
  responseClass: string;
  summary: string;
  params: string[];
  /** Status and reason; as pairs where Asterisk's document does not list them in ascending order. */
  errors: Record<number, string> | [number, string][];
  upgrade?: string;
  websocketProtocol?: string;
}

export interface ParamSpec {
  name: string;
  paramType: 'path' | 'query' | 'body' | 'header';
  dataType: string;
  required: boolean;
  allowMultiple: boolean;
  defaultValue?: string | number | boolean;
  allowable?: { values: string[] } | { min?: number; max?: number };
}

/** An answer: JSON `body`, or `file` bytes sent as they are (a stored recording's file). */
export type Reply = { status: number; body?: unknown; file?: { contentType: string; bytes: Buffer } };
export const err = (status: number, message: string): Reply => ({ status, body: { message } });

/** Typed arguments of one request: path and query parameters by name, the JSON body as `body`. */
export type Args = Record<string, unknown> & {
  body: Record<string, unknown> | undefined;
  /** What Asterisk keeps per HTTP connection (thread): the last channel allocation error. */
  conn?: { channelErrno?: 'EEXIST' };
  /**
   * The query and body parameters the request did give. Asterisk's generated code fills in no
   * documented default: a handler whose C code tells an absent value from the default checks here.
   */
  given?: Set<string>;
};

export type Handler<S> = (a: Args, s: S) => Reply | Promise<Reply>;

export interface Route<S> {
  spec: OperationSpec;
  params: ParamSpec[];
  handler: Handler<S>;
}

const PARAM = /^(path|query|body|header):([^:]+):([^!*={]+)(!)?(\*)?(?:=([^{]*))?(?:\{(.*)\})?$/;

export function parseParam(s: string): ParamSpec {
  const m = PARAM.exec(s);
  if (!m) throw new Error(`bad parameter spec ${s}`);
  const [, paramType, name, dataType, req, multi, def, allow] = m;
  const p: ParamSpec = {
    name: name!,
    paramType: paramType as ParamSpec['paramType'],
    dataType: dataType!,
    required: !!req,
    allowMultiple: !!multi,
  };
  if (def !== undefined)
    p.defaultValue =
      dataType === 'int' || dataType === 'long' ? Number(def) : dataType === 'boolean' ? def === 'true' : def;
  if (allow !== undefined) {
    const range = /^(-?\d*)\.\.(-?\d*)$/.exec(allow);
    p.allowable = range
      ? {
          ...(range[1] ? { min: Number(range[1]) } : {}),
          ...(range[2] ? { max: Number(range[2]) } : {}),
        }
      : { values: allow.split('|') };
  }
  return p;
}

/** Binds handlers to operations, in the operations' order; an operation without one is not served. */
export function bind<S, O extends Record<string, OperationSpec>>(
  ops: O,
  handlers: Partial<Record<keyof O, Handler<S>>>,
): Route<S>[] {
  const out: Route<S>[] = [];
  for (const [nick, spec] of Object.entries(ops)) {
    const handler = handlers[nick as keyof O];
    if (handler)
      out.push({
        spec: { ...spec, nickname: nick } as OperationSpec,
        params: spec.params.map(parseParam),
        handler,
      });
  }
  return out;
}

export const nickname = <S>(r: Route<S>) => (r.spec as OperationSpec & { nickname: string }).nickname;

interface Node<S> {
  statics: Map<string, Node<S>>;
  wildcard?: { name: string; node: Node<S> };
  methods: Map<string, Route<S>>;
}

const node = <S>(): Node<S> => ({ statics: new Map(), methods: new Map() });

/**
 * Asterisk's REST path tree: at each segment a literal child wins over a `{variable}` one, with no
 * going back, so `/channels/create` is the create operation (GET on it is 405, not a channel id).
 */
export class PathTree<S> {
  private root = node<S>();

  constructor(routes: Route<S>[]) {
    for (const r of routes) {
      let n = this.root;
      for (const seg of r.spec.path.split('/').filter(Boolean)) {
        const v = /^\{(\w+)\}$/.exec(seg);
        if (v) {
          n.wildcard ??= { name: v[1]!, node: node<S>() };
          n = n.wildcard.node;
        } else {
          const next = n.statics.get(seg) ?? node<S>();
          n.statics.set(seg, next);
          n = next;
        }
      }
      n.methods.set(r.spec.httpMethod, r);
    }
  }

  /** The route for a request, 404 when the path is unknown, 405 when the method is not served there. */
  resolve(method: string, segments: string[]): { route: Route<S>; path: Record<string, string> } | Reply {
    let n = this.root;
    const path: Record<string, string> = {};
    for (const seg of segments) {
      const s = n.statics.get(seg);
      if (s) n = s;
      else if (n.wildcard) {
        path[n.wildcard.name] = seg;
        n = n.wildcard.node;
      } else return err(404, 'Resource not found');
    }
    // A node with no operation of this method (an inner one such as /asterisk included) is 405.
    const route = n.methods.get(method);
    return route ? { route, path } : err(405, 'Invalid method');
  }
}

/** Asterisk's ast_true: what a boolean parameter accepts as true. */
const truthy = (v: string) => /^(yes|true|y|t|1|on)$/i.test(v.trim());

function convert(p: ParamSpec, v: unknown): unknown {
  if (p.allowMultiple) {
    const list = Array.isArray(v) ? v.map(String) : String(v).split(',');
    return list.map((x) => x.trim()).filter(Boolean);
  }
  if (p.dataType === 'int' || p.dataType === 'long') {
    // atoi/atol: leading digits, 0 when there are none.
    const n = Number.parseInt(String(v), 10);
    return Number.isNaN(n) ? 0 : n;
  }
  if (p.dataType === 'boolean') return typeof v === 'boolean' ? v : truthy(String(v));
  return String(v);
}

/**
 * The arguments as Asterisk's generated code reads them: query parameters converted by type
 * (atoi, ast_true, comma lists), then the same names from a JSON object body, which win; path
 * variables as given. Required parameters are not checked here: each handler answers their
 * absence with its own message, as Asterisk's do. Defaults are the documented ones.
 */
export function parseArgs<S>(
  route: Route<S>,
  path: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): Args {
  const obj =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const given = new Set<string>();
  const a: Args = { body: obj, given };
  for (const p of route.params) {
    if (p.paramType === 'path') {
      if (path[p.name] !== undefined) a[p.name] = path[p.name];
      continue;
    }
    if (p.paramType !== 'query') continue;
    const fromBody = obj?.[p.name];
    const raw = fromBody !== undefined && fromBody !== null ? fromBody : query.get(p.name);
    if (raw !== null && raw !== undefined) {
      a[p.name] = convert(p, raw);
      given.add(p.name);
    } else if (p.defaultValue !== undefined) a[p.name] = p.defaultValue;
  }
  return a;
}

/** The resource documents, in Asterisk's order, with its descriptions. */
const RESOURCES: Record<string, string> = {
  asterisk: 'Asterisk resources',
  endpoints: 'Endpoint resources',
  channels: 'Channel resources',
  bridges: 'Bridge resources',
  recordings: 'Recording resources',
  sounds: 'Sound resources',
  playbacks: 'Playback control resources',
  deviceStates: 'Device state resources',
  mailboxes: 'Mailboxes resources',
  events: 'WebSocket resource',
  applications: 'Stasis application resources',
};

/** resources.json as Asterisk 22 serves it (the listing's apiVersion is ARI's, 10.0.0). */
export function resourceListing(host: string) {
  return {
    apiVersion: '10.0.0',
    swaggerVersion: '1.1',
    basePath: `http://${host}/ari`,
    apis: Object.entries(RESOURCES).map(([r, description]) => ({
      path: `/api-docs/${r}.{format}`,
      description,
    })),
  };
}

/** A model property in models.ts' grammar: `name[!]:type[{a|b|c}]` (values may hold spaces). */
const PROP = /([^\s:]+):([^\s{]+)(?:\{([^}]*)\})?/g;

/** One resource's document, generated from the routes served for it and its models. */
export function resourceDoc<S>(name: string, host: string, routes: Route<S>[]) {
  if (!Object.hasOwn(RESOURCES, name)) return null;
  const byPath = new Map<string, Route<S>[]>();
  for (const r of routes)
    if (r.spec.resource === name) byPath.set(r.spec.path, [...(byPath.get(r.spec.path) ?? []), r]);
  const models: Record<string, unknown> = {};
  for (const [id, m] of Object.entries(MODELS[name] ?? {})) {
    const properties: Record<string, unknown> = {};
    for (const [, k = '', type = '', values] of m.props.matchAll(PROP)) {
      const required = k.endsWith('!');
      properties[required ? k.slice(0, -1) : k] = {
        type,
        required,
        ...(values !== undefined
          ? { allowableValues: { valueType: 'LIST', values: values.split('|') } }
          : {}),
      };
    }
    models[id] = {
      id,
      ...(m.discriminator ? { discriminator: m.discriminator } : {}),
      properties,
      ...(m.subTypes ? { subTypes: m.subTypes } : {}),
    };
  }
  return {
    apiVersion: '2.0.0',
    // Asterisk's events document alone declares Swagger 1.2.
    swaggerVersion: name === 'events' ? '1.2' : '1.1',
    basePath: `http://${host}/ari`,
    resourcePath: `/api-docs/${name}.{format}`,
    ...(REQUIRES_MODULES[name] ? { requiresModules: REQUIRES_MODULES[name] } : {}),
    apis: [...byPath].map(([path, list]) => ({
      path,
      operations: list.map((r) => ({
        httpMethod: r.spec.httpMethod,
        ...(r.spec.upgrade ? { upgrade: r.spec.upgrade, websocketProtocol: r.spec.websocketProtocol } : {}),
        summary: r.spec.summary,
        nickname: nickname(r),
        responseClass: r.spec.responseClass,
        parameters: r.params.map((p) => ({
          name: p.name,
          paramType: p.paramType,
          required: p.required,
          allowMultiple: p.allowMultiple,
          dataType: p.dataType,
          ...(p.defaultValue !== undefined ? { defaultValue: p.defaultValue } : {}),
          ...(p.allowable
            ? {
                allowableValues:
                  'values' in p.allowable
                    ? { valueType: 'LIST', values: p.allowable.values }
                    : { valueType: 'RANGE', ...p.allowable },
              }
            : {}),
        })),
        errorResponses: (Array.isArray(r.spec.errors) ? r.spec.errors : Object.entries(r.spec.errors)).map(
          ([code, reason]) => ({ code: Number(code), reason }),
        ),
      })),
    })),
    models,
  };
}
