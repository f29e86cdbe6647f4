// Dial() in the dialplan, as apps/app_dial.c runs it for one PJSIP destination. The callee is a
// channel of its own (`PJSIP/<endpoint>-<8 hex>`, ast_request), answering by the endpoint's
// configured behaviour; answered, it is bridged with the caller in a basic bridge (features.c
// ast_bridge_call). In app_dial's order:
//
// - the caller's dial variables emptied (each a VarSet with an empty value);
// - the callee made: DIALEDPEERNUMBER set on it, the caller's inheritable (`_`, `__`) variables
//   copied silently, then one staged snapshot: AppDial `(Outgoing Line)`, the caller's extension,
//   the caller's extension as its caller id number (the driver preset none) and the caller's
//   caller id as its connected line; then called, and the dial reported (DialBegin, ARI Dial "");
// - `r`: ringing indicated to the caller at once; else when the callee rings: ringing indicated to
//   the caller, RINGTIME/RINGTIME_MS (since the callee's creation), DialState RINGING;
// - a far end that refuses hangs the callee up (its hangup request carries 17 or 34, which the
//   caller keeps), reported as DialEnd BUSY or CONGESTION; the timeout reports NOANSWER and hangs
//   the callee up (no cause); the caller hanging up first reports CANCEL and hangs it up (16);
// - on the answer: DIALSTATUS=ANSWER, DIALEDPEERNAME, DIALEDPEERNUMBER, DialEnd ANSWER, the caller
//   answered (pre_bridge_setup), a basic bridge created with the callee imparted first, then the
//   caller (both joining with connected-line updates inhibited, so the caller's connected line
//   stays as it was: the simulated far end sends no identity);
// - the bridge dissolves when either side leaves it (AST_BRIDGE_FLAG_DISSOLVE_HANGUP); then
//   ANSWEREDTIME, DIALEDTIME (and their _MS forms, end_bridge_callback), DIALSTATUS once more, and
//   without `g` the caller is hung up (Dial returns -1), with `g` its dialplan goes on.
// `S(x)` and `L(x)` (with no warning: ast_bridge_timelimit turns it into S) hang the callee up x
// seconds (milliseconds for L) after the answer by its own timeout (no hangup request); `L(x:y...)`
// ends the caller's stay in the bridge after x ms instead (the warnings are not played).
import { randomUUID } from 'node:crypto';
import type { SimBridge, SimChannel, SimModel } from './model.ts';
import { newUniqueId } from './originate.ts';

const EMPTIED = [
  'DIALSTATUS',
  'DIALEDPEERNUMBER',
  'DIALEDPEERNAME',
  'ANSWEREDTIME',
  'ANSWEREDTIME_MS',
  'DIALEDTIME',
  'DIALEDTIME_MS',
  'RINGTIME',
  'RINGTIME_MS',
  'PROGRESSTIME',
  'PROGRESSTIME_MS',
];

export interface DialOptions {
  /** `g`: go on in the dialplan after the bridged call if the caller is still up. */
  goOn: boolean;
  /** `r`: indicate ringing to the caller at once. */
  ringback: boolean;
  /** `S(x)`, or `L(x)` without warnings: the callee hangs up this long after the answer (ms). */
  durationMs: number;
  /** `L(x:y...)`: the caller's stay in the bridge ends after this long (ms). */
  bridgeLimitMs: number;
}

/** app_dial's options string (`gL(60000)S(10)r`, an argument in parentheses). */
export function dialOptions(s: string): DialOptions {
  const o: DialOptions = { goOn: false, ringback: false, durationMs: 0, bridgeLimitMs: 0 };
  let stop = 0;
  let limit: string[] | null = null;
  for (const [, letter, arg = ''] of s.matchAll(/([A-Za-z])(?:\(([^)]*)\))?/g)) {
    if (letter === 'g') o.goOn = true;
    else if (letter === 'r') o.ringback = true;
    else if (letter === 'S') stop = Number.parseFloat(arg) > 0 ? Number.parseFloat(arg) * 1000 : 0;
    else if (letter === 'L') limit = arg.split(':');
  }
  o.durationMs = stop;
  const ms = limit ? Number.parseInt(limit[0] ?? '', 10) || 0 : 0;
  if (limit && ms > 0) {
    // ast_bridge_timelimit undoes S(x); with no warning it is S(x/1000) (whole ms kept).
    o.durationMs = 0;
    if (Number.parseInt(limit[1] ?? '', 10) > 0) o.bridgeLimitMs = ms;
    else o.durationMs = ms;
  }
  return o;
}

/** set_duration_var: whole seconds as `<base>`, milliseconds as `<base>_MS`. */
function duration(model: SimModel, c: SimChannel, base: string, ms: number): void {
  const v = Math.max(0, Math.floor(ms));
  model.setVar(c, base, String(Math.floor(v / 1000)));
  model.setVar(c, `${base}_MS`, String(v));
}

/** ast_indicate(caller, AST_CONTROL_RINGING): through a Local `;2` the `;1` half turns Ringing. */
function indicateRinging(model: SimModel, c: SimChannel): void {
  c.ringback = c.state === 'Up' ? 'inband' : 'far';
  const peer = c.peer && c.name.endsWith(';2') ? model.channels.get(c.peer) : undefined;
  if (peer && peer.state !== 'Up') model.setState(peer, 'Ringing');
}

/**
 * The callee channel app_dial requests (chan_pjsip's outgoing channel, state Down), set up as
 * dial_exec_full sets it before calling it.
 */
function requestCallee(model: SimModel, c: SimChannel, endpoint: string, number: string): SimChannel {
  const tc = model.create({
    id: newUniqueId(),
    name: model.nextName(`PJSIP/${endpoint}`),
    linkedid: c.linkedid ?? c.id,
    endpoint,
  });
  model.setVar(tc, 'DIALEDPEERNUMBER', number);
  // ast_channel_inherit_variables: `__X` keeps its name, `_X` is copied as `X`; no VarSet.
  for (const [k, v] of c.vars) {
    if (k.startsWith('__')) tc.vars.set(k, v);
    else if (k.startsWith('_')) tc.vars.set(k.slice(1), v);
  }
  tc.dialplan = { ...tc.dialplan, exten: c.dialplan.exten, app_name: 'AppDial', app_data: '(Outgoing Line)' };
  tc.caller = { name: c.connected.name, number: c.dialplan.exten };
  tc.connected = { ...c.caller };
  model.publish(tc);
  return tc;
}

/**
 * Runs Dial(<data>) on `c`. Resolves `true` when the dialplan goes on after it (the dial failed,
 * or `g` after a bridged call), `false` when the caller is gone or stays connected.
 */
export async function dialApp(
  model: SimModel,
  c: SimChannel,
  data: string,
  sleep: (ms: number) => Promise<void>,
): Promise<boolean> {
  for (const v of EMPTIED) model.setVar(c, v, '');
  const [target, timeout, options] = data.split(',');
  const opts = dialOptions(options ?? '');
  // PJSIP/<endpoint> or PJSIP/<number>@<endpoint> (a number sent through a trunk endpoint).
  const m = /^PJSIP\/(([^@&,]+)(?:@([^&,]+))?)/i.exec(target ?? '');
  const name = m?.[3] ?? m?.[2];
  // A configured behaviour, else a realtime endpoint that can be reached answers.
  const b = name ? (model.endpoints.get(name) ?? ((await model.realtime(name)) ? {} : undefined)) : undefined;
  const result = b ? (b.result ?? 'answer') : 'unavailable';
  // No channel could be requested: nothing rang, nothing to cancel.
  if (result === 'unavailable' || !model.channels.has(c.id)) {
    model.setVar(c, 'DIALSTATUS', 'CHANUNAVAIL');
    return true;
  }
  const number = m![1]!;
  const tc = requestCallee(model, c, name!, number);
  const created = Date.now();
  const report = (status: string) => model.appDialEvent(c, tc, status, status === '' ? number : '');
  report('');
  let status = 'CANCEL';
  let bridge: SimBridge | undefined;
  // The caller hanging up ends the dial (CANCEL: the callee is hung up, cause 16) or the bridged
  // call (the bridge dissolves, end_bridge_callback sets the times).
  c.onHangup = () => {
    if (bridge) return endBridged(model, c, tc, bridge, 'caller', status);
    model.appDialEvent(c, tc, 'CANCEL', '');
    model.hangup(tc.id, 16, false, false);
    model.setVar(c, 'DIALSTATUS', 'CANCEL');
  };
  let sentRinging = false;
  if (opts.ringback) {
    indicateRinging(model, c);
    sentRinging = true;
  }
  const ringMs = b!.answerAfterMs ?? 50;
  const limit = (Number.parseFloat(timeout ?? '') || 0) * 1000;
  // The endpoint rings at once (5 ms, or its answer delay if shorter), then answers, refuses or
  // keeps ringing by its behaviour; the dial timeout, if any, runs from the start.
  const ringAt = Math.min(5, ringMs);
  if (!limit || ringAt < limit) {
    await sleep(ringAt);
    if (!model.channels.has(tc.id)) return false;
    model.setState(tc, 'Ringing');
    if (!sentRinging) indicateRinging(model, c);
    duration(model, c, 'RINGTIME', Date.now() - created);
    report('RINGING');
  }
  if (result === 'noanswer' || (limit && ringMs > limit)) {
    // Without a timeout app_dial waits until the caller hangs up (CANCEL, in onHangup).
    if (!limit) return false;
    await sleep(limit - Math.min(ringAt, limit));
    if (!model.channels.has(c.id)) return false;
    c.onHangup = undefined;
    report('NOANSWER');
    model.hangup(tc.id, 0, false, false);
    return finish(model, c, 'NOANSWER');
  }
  await sleep(ringMs - ringAt);
  if (!model.channels.has(c.id)) return false;
  if (result === 'busy' || result === 'congestion') {
    // The far end's refusal hangs the callee up with its cause (a hangup request), which app_dial
    // gives the caller, and reports as the dial's end.
    const cause = result === 'busy' ? 17 : 34;
    c.onHangup = undefined;
    status = result === 'busy' ? 'BUSY' : 'CONGESTION';
    tc.onHangup = () => report(status);
    model.hangup(tc.id, cause);
    c.hangupCause = cause;
    return finish(model, c, status);
  }
  model.setState(tc, 'Up');
  status = 'ANSWER';
  model.setVar(c, 'DIALSTATUS', status);
  model.setVar(c, 'DIALEDPEERNAME', tc.name);
  model.setVar(c, 'DIALEDPEERNUMBER', number);
  report('ANSWER');
  // features.c pre_bridge_setup answers the caller; the ringing it was given stops.
  c.ringback = undefined;
  model.setState(c, 'Up');
  bridge = model.createBridge(randomUUID(), 'mixing', '', true);
  model.enterBridge(tc, bridge);
  model.enterBridge(c, bridge);
  const done = new Promise<boolean>((resolve) => {
    const end = (who: 'caller' | 'callee') => {
      if (!bridge || !model.bridges.has(bridge.id)) return;
      c.onHangup = undefined;
      endBridged(model, c, tc, bridge, who, status);
      bridge = undefined;
      // Dial returns -1 (the caller is hung up) unless `g` and the caller is still up.
      if (opts.goOn) return resolve(true);
      model.hangup(c.id, 16);
      resolve(false);
    };
    // The callee hanging up leaves the bridge on its own thread; the dissolution (the caller out,
    // the bridge destroyed) and app_dial's end follow on the caller's.
    tc.onHangup = () => setImmediate(() => end('callee'));
    // The caller's own hangup ends it in onHangup (above) and the PBX is done with it.
    model.onceExit(c.id, () => resolve(false));
    if (opts.durationMs > 0)
      // The callee's whentohangup: its timeout flag, no hangup request, cause 16 from the answer.
      model.later(tc, opts.durationMs, () => model.hangup(tc.id, 16, false, false));
    if (opts.bridgeLimitMs > 0) model.later(c, opts.bridgeLimitMs, () => end('caller'));
    if (b!.hangupAfterMs !== undefined) model.later(tc, b!.hangupAfterMs, () => model.hangup(tc.id, 16));
  });
  return done;
}

/**
 * The bridged call ends: the side that goes leaves first, the bridge dissolves (the other leaves,
 * BridgeDestroy), the callee is hung up if it is still there (cause 16, no request), then app_dial's
 * end_bridge_callback times and DIALSTATUS.
 */
function endBridged(
  model: SimModel,
  c: SimChannel,
  tc: SimChannel,
  b: SimBridge,
  first: 'caller' | 'callee',
  status: string,
): void {
  tc.onHangup = undefined;
  const order = first === 'caller' ? [c, tc] : [tc, c];
  // AST_BRIDGE_FLAG_DISSOLVE_HANGUP: whoever leaves first takes the other out with it.
  for (const x of order) if (x.bridge === b.id) model.leaveBridge(x);
  if (model.bridges.has(b.id)) model.destroyBridge(b);
  if (model.channels.has(tc.id) && first === 'caller') model.hangup(tc.id, 16, false, false);
  duration(model, c, 'ANSWEREDTIME', c.upAt === undefined ? 0 : Date.now() - c.upAt);
  duration(model, c, 'DIALEDTIME', Date.now() - (Date.parse(c.creationtime.replace('+0000', 'Z')) || 0));
  model.setVar(c, 'DIALSTATUS', status);
}

/** A dial that ended unanswered: its DIALSTATUS, and the dialplan goes on. */
function finish(model: SimModel, c: SimChannel, status: string): boolean {
  // The ringing indicated to the caller stops (ast_indicate(chan, -1)).
  c.ringback = undefined;
  model.setVar(c, 'DIALSTATUS', status);
  return true;
}
