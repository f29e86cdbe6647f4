// /channels: list, originate, create, dial, answer, ring, hangup, continue, move, variables, and
// (channel-media.ts) the media operations. Statuses and messages are resource_channels.c's.
import { requestorAccountcodes } from '../app-dial.ts';
import type { SimChannel } from '../model.ts';
import { REASON_CAUSE } from '../model.ts';
import { type Caller, localPair, newUniqueId, originate, parseCallerId, parseLocal } from '../originate.ts';
import { channelMediaHandlers, MEDIA_FORMATS } from './channel-media.ts';
import { afterQueue, controlAsync, controlSync } from './control.ts';
import { channelsOps } from './operations.ts';
import { answered, inStasis, jsonVariables, withChannel } from './guards.ts';
import { readVariable, setVariable } from './variables.ts';
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

/** AST_MAX_PUBLIC_UNIQUEID: the longest channel id an originate accepts. */
const MAX_UNIQUEID = 149;

/** The body's `variables` (an object) checked as json_to_ast_variables does; anything else is none. */
const variablesOf = (a: Args): Array<[string, string]> | Reply => {
  const v = a.body?.variables;
  return v && typeof v === 'object' && !Array.isArray(v) ? jsonVariables(v as Record<string, unknown>) : [];
};

const formatsError = (a: Args): Reply | null => {
  for (const f of String(a.formats ?? '')
    .split(',')
    .filter(Boolean))
    if (!MEDIA_FORMATS.has(f.trim())) return err(400, `Provided format (${f}) was not found`);
  return null;
};

const takenIds = (s: AriState, ...ids: Array<unknown>) =>
  ids.some((id) => typeof id === 'string' && id && s.model.channels.has(id));

const create: H = async (a, s) => {
  const vars = variablesOf(a);
  if (!Array.isArray(vars)) return vars;
  if (a.originator && a.formats) return err(400, "Originator and formats can't both be specified");
  const endpoint = (a.endpoint as string | undefined) ?? '';
  if (!endpoint) return err(400, 'Endpoint must be specified');
  if (!endpoint.includes('/')) return err(400, 'Invalid endpoint specified');
  const app = (a.app as string | undefined) ?? '';
  const args = ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean);
  if (takenIds(s, a.channelId, a.otherChannelId)) return duplicate(a);
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
    const accountcode = await s.model.pjsip.accountcode(ep);
    if (takenIds(s, a.channelId)) return duplicate(a);
    c = s.model.create({
      id: (a.channelId as string | undefined) ?? newUniqueId(),
      name: s.model.nextName(`PJSIP/${ep}`),
      endpoint: ep,
      ...(accountcode ? { accountcode } : {}),
    });
  }
  for (const [k, v] of vars) s.model.setVar(c, k, v);
  if (!app) {
    // No app to hold it: the Stasis application runs with no arguments (its data printed as
    // "(null)"), fails, and the channel is hung up at once, with no cause.
    const body = s.model.json(c);
    setImmediate(() => {
      c.dialplan = { ...c.dialplan, app_name: 'Stasis', app_data: '(null)' };
      s.model.publish(c);
      s.model.setVar(c, 'STASISSTATUS', '');
      s.model.setVar(c, 'STASISSTATUS', 'FAILED');
      // Hung up directly (ast_hangup), with no request.
      s.model.hangup(c.id, 0, false, false);
    });
    return { status: 200, body };
  }
  c.owner = app;
  // The answer is the snapshot from before the channel entered Stasis; its StasisStart can reach
  // the WebSocket before the HTTP 200 reaches the caller.
  const body = s.model.json(c);
  s.model.enterStasis(c, app, args);
  return { status: 200, body };
};

const originateHandler: H = async (a, s) => {
  const vars = variablesOf(a);
  if (!Array.isArray(vars)) return vars;
  const long = [a.channelId, a.otherChannelId].some(
    (id) => typeof id === 'string' && id.length > MAX_UNIQUEID,
  );
  if (long) return err(400, `Uniqueid length exceeds maximum of ${MAX_UNIQUEID}`);
  const endpoint = (a.endpoint as string | undefined) ?? '';
  if (!endpoint) return err(400, 'Endpoint must be specified');
  if (a.originator && a.formats) return err(400, "Originator and formats can't both be specified");
  if (!endpoint.includes('/')) return err(400, 'Invalid endpoint specified');
  const app = a.app as string | undefined;
  const exten = a.extension as string | undefined;
  // To an extension: a label (or a number as one) or a priority in the context, default `default`.
  let priority: number | undefined;
  if (!app && a.label) {
    const context = (a.context as string | undefined) || 'default';
    const n = /^\s*[-+]?\d+/.exec(a.label as string);
    priority = n ? Number.parseInt(n[0], 10) : s.model.findLabel(context, exten ?? '', a.label as string);
    if (priority === -1 && !n) return err(404, 'Requested label can not be found');
    if (priority === 0) return err(400, 'Requested priority is illegal');
  }
  if (!app && !exten) return err(400, 'Application or extension must be specified');
  if (a.originator && !s.model.channels.has(a.originator as string))
    return err(400, 'Provided originator channel was not found');
  const bad = formatsError(a);
  if (bad) return bad;
  if (takenIds(s, a.channelId, a.otherChannelId)) return duplicate(a);
  const caller: Caller = parseCallerId(a.callerId as string | undefined);
  if (!parseLocal(endpoint)) {
    // Only Local channels are originated; a PJSIP endpoint that exists is dialled as a created
    // channel would be, anything else fails to allocate.
    const ep = await pjsipEndpoint(s, endpoint);
    if (!ep) return allocationFailed(a);
    const accountcode = await s.model.pjsip.accountcode(ep);
    const c = s.model.create({
      id: (a.channelId as string | undefined) ?? newUniqueId(),
      name: s.model.nextName(`PJSIP/${ep}`),
      endpoint: ep,
      caller,
      ...(accountcode ? { accountcode } : {}),
    });
    if (app) c.owner = app;
    for (const [k, v] of vars) s.model.setVar(c, k, v);
    const body = s.model.json(c);
    s.model.dial(c, Number(a.timeout ?? 30));
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
      : {
          context: (a.context as string | undefined) || 'default',
          exten: exten!,
          ...(priority ? { priority } : a.priority ? { priority: Number(a.priority) } : {}),
        },
    ...(app ? { subscribe: app } : {}),
    timeoutS: Number(a.timeout ?? 30),
    vars,
  });
  return r.snapshot ? { status: 200, body: r.snapshot } : allocationFailed(a);
};

export const channelRoutes = bind<AriState, typeof channelsOps>(channelsOps, {
  // Internal channels (a bridge's announcer and recorder) are sanitized out of the list.
  list: (_a, s) => ({
    status: 200,
    body: [...s.model.channels.values()].filter((c) => !c.media).map((c) => s.model.json(c)),
  }),
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
    // The place is checked now; the channel goes there in its control queue's turn (after what
    // it plays). app_control_continue departs the bridge and marks the control done, but the
    // dispatch pass it ran in still runs every command queued behind it (control_dispatch_all):
    // only once the queue is empty does the Stasis loop end (StasisEnd) and the PBX go on.
    controlAsync(s, c, () => {
      if (!c.app) return;
      s.doneControls.add(c.id);
      if (c.bridge) s.model.leaveBridge(c);
      afterQueue(s, c, () => {
        s.doneControls.delete(c.id);
        if (!c.app) return;
        // A bridge add run behind the continue is undone as the loop ends (ast_bridge_depart).
        if (c.bridge) s.model.leaveBridge(c);
        s.model.leaveStasis(c);
        if (priority !== undefined) {
          c.dialplan = { ...c.dialplan, context, exten };
          // The PBX goes on from the new place only: the run that called Stasis() stops (dialplanRun).
          void s.model.runDialplan(c, context, exten, priority);
        }
        // Back to the dialplan: the interpreter resumes after its Stasis() step.
        s.model.fire(c.id, 'exit');
      });
    });
    return { status: 204 };
  }),
  move: inStasis((c, a, s) => {
    const app = a.app as string | undefined;
    if (!app) return err(400, 'app cannot be empty');
    // Still the same Stasis application run: STASISSTATUS is not touched.
    controlAsync(s, c, () => {
      if (!c.app) return;
      s.model.leaveStasis(c, false);
      s.model.enterStasis(
        c,
        app,
        ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean),
        false,
      );
    });
    return { status: 204 };
  }),
  // Answer waits for its turn on the control queue before the HTTP answer (a synchronous command).
  answer: answered((c, _a, s) =>
    controlSync(
      s,
      c,
      () => {
        s.model.setState(c, 'Up');
        return { status: 204 };
      },
      err(500, 'Failed to answer channel'),
      err(500, 'Failed to answer channel'),
    ),
  ),
  // Ringing is indicated to the far side; the channel's own state does not change. Through a
  // Local pair the indication makes the `;1` half (the dialled one) Ringing. On an answered
  // channel Asterisk plays the ring tone itself instead.
  ring: answered((c, _a, s) => {
    controlAsync(s, c, () => {
      const peer = c.peer && c.name.endsWith(';2') ? s.model.channels.get(c.peer) : undefined;
      if (peer && peer.state !== 'Up') s.model.setState(peer, 'Ringing');
      c.ringback = c.state === 'Up' ? 'inband' : 'far';
    });
    return { status: 204 };
  }),
  // Stops only a tone Asterisk plays itself: a 180 already sent cannot be taken back.
  ringStop: answered((c, _a, s) => {
    controlAsync(s, c, () => {
      if (c.ringback === 'inband') c.ringback = undefined;
    });
    return { status: 204 };
  }),
  // The variable name is checked before the channel (any channel, in Stasis or not).
  getChannelVar: (a, s) => {
    const variable = a.variable as string | undefined;
    if (!variable) return err(400, 'Variable name is required');
    const c = s.model.channels.get(a.channelId as string);
    if (!c) return err(404, 'Provided channel was not found');
    const r = readVariable(s.model, c, variable);
    return 'status' in r ? r : { status: 200, body: r };
  },
  setChannelVar: (a, s) => {
    const variable = a.variable as string | undefined;
    if (!variable) return err(400, 'Variable name is required');
    // Synchronous on the control queue: the answer waits behind a playback (stasis_app_send_command);
    // a channel leaving Stasis meanwhile still gets the variable (control_dispatch_all).
    return inStasis((c) => {
      const set = () => setVariable(c, variable, (a.value as string | undefined) ?? '', s);
      return controlSync(s, c, set, set, err(400, 'Failed to execute function'));
    })(a, s);
  },
  dial: inStasis((c, a, s) => {
    const callerId = a.caller as string | undefined;
    const caller = callerId ? s.model.channels.get(callerId) : undefined;
    if (c.state !== 'Down') return err(409, "Channel is not in the 'Down' state");
    if (c.dialing || !c.endpoint) return err(409, 'Dialing a channel not created by ARI');
    // A caller only lends the dialled channel its parts (ast_ari_channels_dial): the connected line
    // (who the far end sees calling), the inheritable variables (`__X` as is, `_X` as `X`) and the
    // account codes (ast_channel_req_accountcodes, not precious). The dial itself stays the
    // channel's own: no Dial event or CDR names the caller.
    if (caller) {
      c.connected = { ...caller.caller };
      for (const [k, v] of caller.vars) {
        if (k.startsWith('__')) c.vars.set(k, v);
        else if (k.startsWith('_')) c.vars.set(k.slice(1), v);
      }
      requestorAccountcodes(c, caller);
      s.model.publish(c);
    }
    if (!controlAsync(s, c, () => s.model.dial(c, Number(a.timeout ?? 0)), { later: true }))
      return { status: 500, body: { error: 'Allocation failed' } };
    return { status: 204 };
  }),
  ...channelMediaHandlers,
});
