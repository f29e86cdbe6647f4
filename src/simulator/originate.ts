// Channels that Asterisk makes on request: a Local channel pair, and an originate (AMI Originate,
// ARI POST /channels) that dials it and, once answered, sends it to an app or the dialplan.
import type { SimChannel, SimModel } from './model.ts';

export type Caller = { name: string; number: string };

/** Where a Local pair's `;2` goes, and whether the pair was asked not to optimise itself away. */
export interface LocalDest {
  exten: string;
  context: string;
  /** Option `n` (AST_UNREAL_NO_OPTIMIZATION). */
  noOptimize?: boolean;
}

/**
 * `<exten>[@<context>][/<options>]` as chan_local's local_alloc reads it: the options after the
 * last `/` (`n`: no optimisation), no context is `default`.
 */
export function localDestination(data: string): LocalDest {
  const slash = data.lastIndexOf('/');
  const dest = slash < 0 ? data : data.slice(0, slash);
  const at = dest.indexOf('@');
  return {
    exten: at < 0 ? dest : dest.slice(0, at),
    context: at < 0 ? 'default' : dest.slice(at + 1),
    noOptimize: slash >= 0 && data.slice(slash + 1).includes('n'),
  };
}

/** `Local/<exten>@<context>[/<options>]` -> its parts; null for any other dial string. */
export function parseLocal(endpoint: string): LocalDest | null {
  return /^Local\/[^@/]+@[^/]+?(?:\/\w*)?$/i.test(endpoint) ? localDestination(endpoint.slice(6)) : null;
}

/** `"Name" <number>`, `Name <number>` or `number` as Asterisk's ast_callerid_parse reads them. */
export function parseCallerId(s: string | undefined): Caller {
  const v = (s ?? '').trim();
  const m = /^(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>$/.exec(v);
  if (m) return { name: (m[1] ?? m[2] ?? '').trim(), number: m[3]!.trim() };
  return /^[+\d*#]+$/.test(v) ? { name: '', number: v } : { name: v, number: '' };
}

let uniqueSeq = 0;
/** A channel uniqueid as Asterisk makes them: `<epoch seconds>.<global sequence>`. */
export const newUniqueId = () => `${Math.floor(Date.now() / 1000)}.${++uniqueSeq}`;

/**
 * A Local channel pair for `exten@context`: `;1` (Down) is what the requester dials, `;2` (Ring)
 * runs the dialplan once `;1` is called; `;1`'s uniqueid is the call's Linkedid.
 */
export function localPair(
  model: SimModel,
  dest: LocalDest,
  o: { id1?: string; id2?: string; linkedid?: string } = {},
): { one: SimChannel; two: SimChannel } {
  const base = model.nextName(`Local/${dest.exten}@${dest.context}`);
  const dialplan = { context: dest.context, exten: dest.exten, priority: 1, app_name: '', app_data: '' };
  const id1 = o.id1 ?? newUniqueId();
  // Requested by a channel (app_dial), both halves take the requester's Linkedid.
  const linkedid = o.linkedid ?? id1;
  const one = model.create({ id: id1, name: `${base};1`, dialplan: { ...dialplan }, linkedid });
  const two = model.create({
    // core_local: given only the first id, the second half's is `<id>;2`.
    id: o.id2 ?? (o.id1 ? `${o.id1};2` : newUniqueId()),
    name: `${base};2`,
    state: 'Ring',
    dialplan: { ...dialplan },
    fromDialplan: true,
    linkedid,
  });
  one.peer = two.id;
  two.peer = one.id;
  if (dest.noOptimize) one.noOptimize = two.noOptimize = true;
  one.endpoint = `${dest.exten}@${dest.context}`;
  return { one, two };
}

export type After =
  | { app: string; args: string[] }
  | { context: string; exten: string; priority?: number }
  | { application: string; data: string }
  | null;

export interface OriginateResult {
  /** The dialled channel (`;1` of a Local pair), or null when none could be made. */
  channel: SimChannel | null;
  /** The channel as it was when made (what ARI answers with), before its far side ran. */
  snapshot: Record<string, unknown> | null;
  /**
   * Settles once: answered (reason 4) or failed with pbx.c's pbx_dial_reason: 0 not made or the
   * far side hung up, 3 no answer within the timeout, 5 busy, 8 congestion. (1, the caller hanging
   * up, needs a calling channel, which an originate's dial never has.)
   */
  outcome: Promise<{ answered: boolean; reason: number }>;
}

/**
 * Originates towards `endpoint`: the channel is dialled (Dial/DialBegin), and once it answers it
 * goes where `after` says. With an app, the app is subscribed to both halves from the start, as
 * ARI's originate does. Only Local channels (and nothing else) can be originated here.
 */
export function originate(
  model: SimModel,
  r: {
    endpoint: string;
    caller?: Caller;
    channelId?: string;
    otherChannelId?: string;
    after: After;
    subscribe?: string;
    timeoutS?: number;
    /** Variables set on the dialled channel before the dial (copied to `;2` when it is called). */
    vars?: Array<[string, string]>;
    /**
     * AMI's order (pbx_outgoing_attempt): the variables right after the placeholder application,
     * before the caller id; ARI's originate sets them after the caller id and connected line.
     */
    varsBeforeCaller?: boolean;
    /** AMI Originate's `Account`. */
    account?: string;
    /**
     * No format left to request (AMI `Codecs` naming none Asterisk knows): chan_local makes `;1`,
     * finds no format for it and releases it before `;2` exists, so the request fails.
     */
    noFormats?: boolean;
  },
): OriginateResult {
  const local = parseLocal(r.endpoint);
  if (!local)
    return { channel: null, snapshot: null, outcome: Promise.resolve({ answered: false, reason: 0 }) };
  if (r.noFormats) {
    const one = model.create({
      id: r.channelId || newUniqueId(),
      name: `${model.nextName(`Local/${local.exten}@${local.context}`)};1`,
      dialplan: { context: local.context, exten: local.exten, priority: 1, app_name: '', app_data: '' },
    });
    one.linkedid = one.id;
    model.hangup(one.id, 0, false, false);
    return { channel: null, snapshot: null, outcome: Promise.resolve({ answered: false, reason: 0 }) };
  }
  const { one, two } = localPair(model, local, {
    ...(r.channelId ? { id1: r.channelId } : {}),
    ...(r.otherChannelId ? { id2: r.otherChannelId } : {}),
  });
  // The dialling side of an originate runs Asterisk's placeholder application until answered,
  // then gets the originate's caller as its caller id and its connected line, each published in
  // turn (Newexten, NewCallerid, NewConnectedLine) before an app is subscribed to the channel, so
  // the app hears none of them; local_call crosses them over to `;2`.
  one.dialplan = { ...one.dialplan, app_name: 'AppDial2', app_data: '(Outgoing Line)' };
  model.publish(one);
  if (r.varsBeforeCaller) for (const [k, v] of r.vars ?? []) model.setVar(one, k, v);
  // An AMI Originate's Account: the account code and peer account, one staged snapshot
  // (NewAccountCode), after the variables and before the caller id (pbx_outgoing_attempt).
  if (r.account) {
    one.accountcode = one.peeraccount = r.account;
    model.publish(one);
  }
  if (r.caller && (r.caller.number || r.caller.name)) {
    one.caller = { ...r.caller };
    model.publish(one);
    one.connected = { ...r.caller };
    model.publish(one);
  }
  if (!r.varsBeforeCaller) for (const [k, v] of r.vars ?? []) model.setVar(one, k, v);
  if (r.subscribe) one.owner = two.owner = r.subscribe;
  const outcome = new Promise<{ answered: boolean; reason: number }>((resolve) => {
    let answered = false;
    model.onceUp(one.id, () => {
      answered = true;
      resolve({ answered: true, reason: 4 });
      const a = r.after;
      if (!a) return;
      if ('app' in a) model.enterStasis(one, a.app, a.args);
      else if ('context' in a) void model.runDialplan(one, a.context, a.exten, a.priority);
      else if (a.application.toLowerCase() === 'wait')
        model.later(one, (Number(a.data) || 0) * 1000, () => model.hangup(one.id, 16));
    });
    model.onceExit(one.id, () => {
      if (!answered) resolve({ answered: false, reason: one.dialReason ?? 0 });
    });
  });
  // Dialling `;1` calls it (local_call). With no such extension for `;2` the call fails after the
  // pair's setup: nothing is joined or dialled, and the dial hangs `;1` up (no request, no cause),
  // which takes the never-called `;2` with it first (core_unreal.c).
  if (!model.callLocal(one, two)) {
    const snapshot = model.json(one);
    model.later(one, 0, () => model.hangup(one.id, 0, false, false));
    return { channel: one, snapshot, outcome };
  }
  // local_call joined the pair (above) before the dial is reported.
  model.beginDial(one, { dialstring: `${local.exten}@${local.context}`, originate: true });
  // The dial's timeout (dial.c handle_timeout_trip): the channel gets cause 19 and is hung up by
  // the dial itself (no hangup request, no final dial status); the originate's reason is 3.
  if (r.timeoutS && r.timeoutS > 0)
    model.later(one, r.timeoutS * 1000, () => {
      if (one.state === 'Up') return;
      model.endOriginateDial(one, 3);
      model.hangup(one.id, 19, false, false);
    });
  const snapshot = model.json(one);
  void model.runDialplan(two, local.context, local.exten);
  return { channel: one, snapshot, outcome };
}
