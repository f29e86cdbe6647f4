// /channels: list, originate, create, dial, answer, ring, hangup, continue, move, variables, and
// (channel-media.ts) the media operations. Statuses and messages are resource_channels.c's.
import type { SimChannel } from '../model.ts';
import { REASON_CAUSE } from '../model.ts';
import { type Caller, localPair, newUniqueId, originate, parseCallerId, parseLocal } from '../originate.ts';
import { channelMediaHandlers } from './channel-media.ts';
import { channelsOps } from './operations.ts';
import { answered, inStasis, withChannel } from './guards.ts';
import { type Args, bind, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

type H = Handler<AriState>;

const allocationFailed = (a: Args): Reply =>
  // Asterisk reads the channel errno of the thread serving the connection, never reset: after a
  // duplicate id on the same connection, an allocation failure is reported as that 409 again.
  a.conn?.channelErrno === 'EEXIST'
    ? err(409, 'Channel with given unique ID already exists')
    : { status: 500, body: { error: 'Allocation failed' } };

const duplicate = (a: Args): Reply => {
  if (a.conn) a.conn.channelErrno = 'EEXIST';
  return err(409, 'Channel with given unique ID already exists');
};

/** A PJSIP endpoint that can be dialled: configured, or a realtime row with a contact. */
async function pjsipEndpoint(s: AriState, endpoint: string): Promise<string | null> {
  const m = /^PJSIP\/([^@/]+)(?:@[^/]*)?$/i.exec(endpoint);
  if (!m) return null;
  const name = m[1]!;
  return s.model.endpoints.has(name) || (await s.model.realtime(name)) ? name : null;
}

const takenIds = (s: AriState, ...ids: Array<unknown>) =>
  ids.some((id) => typeof id === 'string' && id && s.model.channels.has(id));

const create: H = async (a, s) => {
  const endpoint = (a.endpoint as string | undefined) ?? '';
  if (!endpoint) return err(400, 'Endpoint must be specified');
  if (!endpoint.includes('/')) return err(400, 'Invalid endpoint specified');
  const app = (a.app as string | undefined) ?? '';
  const args = ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean);
  if (takenIds(s, a.channelId, a.otherChannelId)) return duplicate(a);
  const vars = (a.body?.variables ?? {}) as Record<string, unknown>;
  const local = parseLocal(endpoint);
  let c: SimChannel;
  if (local) {
    const pair = localPair(s.model, local, {
      ...(a.channelId ? { id1: a.channelId as string } : {}),
      ...(a.otherChannelId ? { id2: a.otherChannelId as string } : {}),
    });
    c = pair.one;
  } else {
    const ep = await pjsipEndpoint(s, endpoint);
    if (!ep) return allocationFailed(a);
    if (takenIds(s, a.channelId)) return duplicate(a);
    c = s.model.create({
      id: (a.channelId as string | undefined) ?? newUniqueId(),
      name: s.model.nextName(`PJSIP/${ep}`),
      endpoint: ep,
    });
  }
  for (const [k, v] of Object.entries(vars)) c.vars.set(k, String(v));
  if (!app) {
    // No app to hold it: the channel has nowhere to go and is hung up at once, with no cause.
    setImmediate(() => s.model.hangup(c.id, 0));
    return { status: 200, body: s.model.json(c) };
  }
  c.owner = app;
  // The answer is the snapshot from before the channel entered Stasis; its StasisStart can reach
  // the WebSocket before the HTTP 200 reaches the caller.
  const body = s.model.json(c);
  s.model.enterStasis(c, app, args);
  return { status: 200, body };
};

const originateHandler: H = async (a, s) => {
  const endpoint = (a.endpoint as string | undefined) ?? '';
  if (!endpoint) return err(400, 'Endpoint must be specified');
  if (!endpoint.includes('/')) return err(400, 'Invalid endpoint specified');
  const app = a.app as string | undefined;
  const exten = a.extension as string | undefined;
  if (!app && !exten) return err(400, 'Application or extension must be specified');
  if (takenIds(s, a.channelId, a.otherChannelId)) return duplicate(a);
  const caller: Caller = parseCallerId(a.callerId as string | undefined);
  if (!parseLocal(endpoint)) {
    // Only Local channels are originated; a PJSIP endpoint that exists is dialled as a created
    // channel would be, anything else fails to allocate.
    const ep = await pjsipEndpoint(s, endpoint);
    if (!ep) return allocationFailed(a);
    const c = s.model.create({
      id: (a.channelId as string | undefined) ?? newUniqueId(),
      name: s.model.nextName(`PJSIP/${ep}`),
      endpoint: ep,
      caller,
    });
    if (app) c.owner = app;
    const body = s.model.json(c);
    s.model.dial(c, undefined, Number(a.timeout ?? 30));
    s.model.onceUp(c.id, () => {
      if (app)
        s.model.enterStasis(c, app, ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean));
    });
    return { status: 200, body };
  }
  const r = originate(s.model, {
    endpoint,
    caller,
    ...(a.channelId ? { channelId: a.channelId as string } : {}),
    ...(a.otherChannelId ? { otherChannelId: a.otherChannelId as string } : {}),
    after: app
      ? { app, args: ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean) }
      : { context: (a.context as string | undefined) ?? 'default', exten: exten! },
    ...(app ? { subscribe: app } : {}),
    timeoutS: Number(a.timeout ?? 30),
  });
  return r.snapshot ? { status: 200, body: r.snapshot } : allocationFailed(a);
};

export const channelRoutes = bind<AriState, typeof channelsOps>(channelsOps, {
  list: (_a, s) => ({ status: 200, body: [...s.model.channels.values()].map((c) => s.model.json(c)) }),
  originate: originateHandler,
  create,
  get: withChannel((c, _a, s) => ({ status: 200, body: s.model.json(c) })),
  originateWithId: originateHandler,
  hangup: withChannel((c, a, s) => {
    if (a.reason && a.reason_code) return err(400, "The reason and reason_code can't both be specified");
    let cause = 16;
    if (a.reason_code !== undefined) {
      cause = Number.parseInt(String(a.reason_code), 10);
      if (Number.isNaN(cause)) return err(400, 'Invalid reason for hangup reason code provided');
    } else if (a.reason) {
      const c2 = REASON_CAUSE[a.reason as string];
      if (c2 === undefined) return err(400, 'Invalid reason for hangup reason provided');
      cause = c2;
    }
    // Asterisk reports the request first (cause 32, soft), then the destruction with the cause.
    setImmediate(() => s.model.hangup(c.id, cause, true));
    return { status: 204 };
  }),
  // resource_channels.c: no context keeps the channel's (and its extension unless one is given);
  // a context given starts at its `s` unless an extension is; a label (or a number as one), else
  // a priority, else 1 — or, with nothing given, the priority after Stasis().
  continueInDialplan: answered((c, a, s) => {
    const context = (a.context as string | undefined) || c.dialplan.context;
    const exten = (a.extension as string | undefined) || (a.context ? 's' : c.dialplan.exten);
    let priority: number | undefined;
    const label = a.label as string | undefined;
    if (label) {
      const n = /^\s*[-+]?\d+/.exec(label);
      priority = n ? Number.parseInt(n[0], 10) : s.model.findLabel(context, exten, label);
      if (priority === -1 && !n) return err(404, 'Requested label can not be found');
      if (priority === 0) return err(400, 'Requested priority is illegal');
    } else if (a.given?.has('priority') && Number(a.priority)) priority = Number(a.priority);
    else if (a.context || a.extension) priority = 1;
    s.model.leaveStasis(c);
    if (priority !== undefined) {
      c.dialplan = { ...c.dialplan, context, exten };
      // The PBX goes on from the new place only: the run that called Stasis() stops (dialplanRun).
      void s.model.runDialplan(c, context, exten, priority);
    }
    // Back to the dialplan: the interpreter resumes after its Stasis() step.
    s.model.fire(c.id, 'exit');
    return { status: 204 };
  }),
  move: inStasis((c, a, s) => {
    const app = a.app as string | undefined;
    if (!app) return err(400, 'app cannot be empty');
    s.model.leaveStasis(c);
    s.model.enterStasis(c, app, ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean));
    return { status: 204 };
  }),
  answer: answered((c, _a, s) => {
    s.model.setState(c, 'Up');
    return { status: 204 };
  }),
  // Ringing is indicated to the far side; the channel's own state does not change. Through a
  // Local pair the indication makes the `;1` half (the dialled one) Ringing. On an answered
  // channel Asterisk plays the ring tone itself instead.
  ring: answered((c, _a, s) => {
    const peer = c.peer && c.name.endsWith(';2') ? s.model.channels.get(c.peer) : undefined;
    if (peer && peer.state !== 'Up') s.model.setState(peer, 'Ringing');
    c.ringback = c.state === 'Up' ? 'inband' : 'far';
    return { status: 204 };
  }),
  // Stops only a tone Asterisk plays itself: a 180 already sent cannot be taken back.
  ringStop: answered((c) => {
    if (c.ringback === 'inband') c.ringback = undefined;
    return { status: 204 };
  }),
  getChannelVar: withChannel((c, a) => {
    const variable = a.variable as string | undefined;
    if (!variable) return err(400, 'Variable name is required');
    const fn = /^CALLERID\((num|name|all)\)$/i.exec(variable);
    if (fn) {
      const k = fn[1]!.toLowerCase();
      const v =
        k === 'num'
          ? c.caller.number
          : k === 'name'
            ? c.caller.name
            : `"${c.caller.name}" <${c.caller.number}>`;
      return { status: 200, body: { value: v } };
    }
    // TIMEOUT(absolute) reads the seconds left ("%.3f"), or "0" when none is set.
    if (/^TIMEOUT\(a/i.test(variable)) {
      const left = c.hangupAt === undefined ? '0' : ((c.hangupAt - Date.now()) / 1000).toFixed(3);
      return { status: 200, body: { value: left } };
    }
    if (!c.vars.has(variable)) return err(404, 'Provided variable was not found');
    return { status: 200, body: { value: c.vars.get(variable) } };
  }, 'Provided channel was not found'),
  setChannelVar: inStasis((c, a, s) => {
    const variable = a.variable as string | undefined;
    if (!variable) return err(400, 'Variable name is required');
    const value = (a.value as string | undefined) ?? '';
    // A dialplan function is written, not stored: CALLERID(num|name) changes the channel's
    // caller, which Asterisk reports as ChannelCallerId (no ChannelVarset).
    const cid = /^CALLERID\((num|name)\)$/i.exec(variable);
    if (cid) {
      c.caller =
        cid[1]!.toLowerCase() === 'num' ? { ...c.caller, number: value } : { ...c.caller, name: value };
      s.model.event(s.model.target(c), 'ChannelCallerId', {
        caller_presentation: 0,
        caller_presentation_txt: 'Presentation Allowed, Not Screened',
        channel: s.model.json(c),
      });
      return { status: 204 };
    }
    // TIMEOUT(absolute) (func_timeout.c reads the first letter of its argument, and the value as
    // whole seconds with an optional fraction): Asterisk hangs the channel up that long from now.
    if (/^TIMEOUT\(a[^)]*\)$/i.test(variable)) {
      const m = /^\s*(-?\d+)(\.\d*)?/.exec(value);
      s.model.setAbsoluteTimeout(c, m ? Number(m[1]) + Number(m[2] ?? 0) : 0);
      return { status: 204 };
    }
    c.vars.set(variable, value);
    s.model.event(s.model.target(c), 'ChannelVarset', { variable, value, channel: s.model.json(c) });
    return { status: 204 };
  }),
  dial: inStasis((c, a, s) => {
    const callerId = a.caller as string | undefined;
    const caller = callerId ? s.model.channels.get(callerId) : undefined;
    if (c.state !== 'Down') return err(409, "Channel is not in the 'Down' state");
    if (c.dialing || !c.endpoint) return err(409, 'Dialing a channel not created by ARI');
    if (caller) c.connected = { ...caller.caller };
    setImmediate(() => s.model.dial(c, caller, Number(a.timeout ?? 0)));
    return { status: 204 };
  }),
  ...channelMediaHandlers,
});
