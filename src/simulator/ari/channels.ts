// /channels: list, originate, create, hangup, answer, ring, dial, continue, move, variables.
import { randomUUID } from 'node:crypto';
import { REASON_CAUSE, type SimChannel } from '../model.ts';
import { channelsOps } from './operations.ts';
import { type Args, bind, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

type H = Handler<AriState>;

/** The channel named by the path, or the reply Asterisk gives when there is none. */
const withChannel =
  (f: (c: SimChannel, a: Args, s: AriState) => Reply | Promise<Reply>, missing = 'Channel not found'): H =>
  (a, s) => {
    const c = s.model.channels.get(a.channelId as string);
    return c ? f(c, a, s) : err(404, missing);
  };

/** As `withChannel`, and the channel must be in a Stasis application. */
const inStasis = (f: (c: SimChannel, a: Args, s: AriState) => Reply | Promise<Reply>): H =>
  withChannel((c, a, s) => (c.app ? f(c, a, s) : err(409, 'Channel not in Stasis application')));

/** PJSIP/<endpoint> exists only when configured; anything else fails like Asterisk's allocation. */
async function resolveEndpoint(s: AriState, endpoint: string): Promise<string | null> {
  const [tech, rest] = endpoint.split('/', 2);
  if (tech?.toUpperCase() !== 'PJSIP' || !rest) return null;
  const name = rest.split('@')[0]!;
  return s.model.endpoints.has(name) || (await s.model.realtime(name)) ? name : null;
}

const create: H = async (a, s) => {
  const endpoint = a.endpoint as string | undefined;
  const app = a.app as string | undefined;
  if (!endpoint || !app) return err(400, 'endpoint and app are required');
  const id = (a.channelId as string | undefined) ?? randomUUID();
  if (s.model.channels.has(id)) return err(409, 'Channel with this id already exists');
  const ep = await resolveEndpoint(s, endpoint);
  if (!ep) return { status: 500, body: { error: 'Allocation failed' } };
  if (s.model.channels.has(id)) return err(409, 'Channel with this id already exists');
  const c = s.model.create({ id, name: s.model.nextName(`PJSIP/${ep}`), endpoint: ep });
  const vars = (a.body?.variables ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(vars)) c.vars.set(k, String(v));
  const args = ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean);
  // Facts: the leg's StasisStart can reach the WebSocket before the HTTP 200 reaches the caller.
  s.model.enterStasis(c, app, args);
  return { status: 200, body: s.model.json(c) };
};

const originate: H = (a, s) => {
  const endpoint = (a.endpoint as string | undefined) ?? '';
  const local = /^Local\/([^@]+)@([\w-]+)$/.exec(endpoint);
  if (!local) return err(400, 'Only Local/<exten>@<context> originates are modelled');
  const cid = /^(?:"?([^"<]*)"?\s*)?<?([+\d]+)>?$/.exec((a.callerId as string | undefined) ?? '');
  const id = (a.channelId as string | undefined) ?? randomUUID();
  if (s.model.channels.has(id)) return err(409, 'Channel with this id already exists');
  s.model.emit('originate-local', {
    exten: local[1]!,
    context: local[2]!,
    callerNumber: cid?.[2] ?? '',
    callerName: cid?.[1]?.trim() ?? '',
    channelId: id,
    otherChannelId: (a.otherChannelId as string | undefined) ?? undefined,
    app: (a.app as string | undefined) ?? undefined,
    appArgs: (a.appArgs as string | undefined) ?? undefined,
  });
  // Asterisk answers with the `;1` half.
  const one = s.model.channels.get(id);
  return one ? { status: 200, body: s.model.json(one) } : err(500, 'Allocation failed');
};

export const channelRoutes = bind<AriState, typeof channelsOps>(channelsOps, {
  list: (_a, s) => ({ status: 200, body: [...s.model.channels.values()].map((c) => s.model.json(c)) }),
  originate,
  create,
  get: withChannel((c, _a, s) => ({ status: 200, body: s.model.json(c) })),
  originateWithId: originate,
  hangup: withChannel((c, a, s) => {
    const reason = (a.reason as string | undefined) ?? 'normal';
    const cause = a.reason_code !== undefined ? Number(a.reason_code) : REASON_CAUSE[reason];
    if (cause === undefined) return err(400, 'Invalid reason for hangup provided');
    // Asterisk reports the request first (cause 32, soft), then the destruction with the cause.
    setImmediate(() => s.model.hangup(c.id, cause, true));
    return { status: 204 };
  }),
  continueInDialplan: inStasis((c, _a, s) => {
    const app = c.app;
    c.app = null;
    s.model.event(app, 'StasisEnd', { channel: s.model.json(c) });
    // Back to the dialplan: the interpreter resumes after its Stasis() step.
    s.model.fire(c.id, 'exit');
    return { status: 204 };
  }),
  move: inStasis((c, a, s) => {
    const app = a.app as string | undefined;
    if (!app) return err(400, 'app is required');
    if (!s.apps.has(app)) return err(422, `Application ${app} not registered`);
    s.model.event(c.app, 'StasisEnd', { channel: s.model.json(c) });
    s.model.enterStasis(c, app, ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean));
    return { status: 204 };
  }),
  answer: inStasis((c, _a, s) => {
    s.model.setState(c, 'Up');
    return { status: 204 };
  }),
  ring: inStasis((c, _a, s) => {
    s.model.setState(c, 'Ringing');
    return { status: 204 };
  }),
  getChannelVar: withChannel((c, a) => {
    const variable = a.variable as string | undefined;
    if (!variable) return err(400, 'Variable name is required');
    if (!c.vars.has(variable)) return err(404, 'Provided variable was not found');
    return { status: 200, body: { value: c.vars.get(variable) } };
  }),
  setChannelVar: withChannel((c, a, s) => {
    const variable = a.variable as string | undefined;
    if (!variable) return err(400, 'Variable name is required');
    const value = (a.value as string | undefined) ?? '';
    // A dialplan function is written, not stored: CALLERID(num|name) changes the channel's
    // caller, which Asterisk reports as ChannelCallerId (no ChannelVarset).
    const cid = /^CALLERID\((num|name)\)$/i.exec(variable);
    if (cid) {
      c.caller =
        cid[1]!.toLowerCase() === 'num' ? { ...c.caller, number: value } : { ...c.caller, name: value };
      s.model.event(c.app, 'ChannelCallerId', {
        caller_presentation: 0,
        caller_presentation_txt: 'Presentation Allowed, Not Screened',
        channel: s.model.json(c),
      });
      return { status: 204 };
    }
    c.vars.set(variable, value);
    s.model.event(c.app, 'ChannelVarset', {
      variable,
      value: c.vars.get(variable),
      channel: s.model.json(c),
    });
    return { status: 204 };
  }),
  dial: inStasis((c, a, s) => {
    if (c.state !== 'Down' || c.dialing) return err(409, 'Channel is not in the Down state');
    const callerId = a.caller as string | undefined;
    const caller = callerId ? s.model.channels.get(callerId) : undefined;
    if (callerId && !caller) return err(404, 'Caller channel not found');
    setImmediate(() => s.model.dial(c, caller, Number(a.timeout ?? 0)));
    return { status: 204 };
  }),
});
