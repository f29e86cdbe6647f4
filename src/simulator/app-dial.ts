// Dial() in the dialplan, as apps/app_dial.c runs it for PJSIP and Local destinations (a Local
// line is the pair's `;1`, going as its `;2` does in the dialplan; several joined by `&`
// ring at once: the first to answer wins, the others are cancelled and hung up answered elsewhere;
// with none answered DIALSTATUS is what their failures add up to). Each callee is a
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
// ends the caller's stay in the bridge after x ms instead (the warnings are not played). `U(x)` runs
// a subroutine on the answered callee whose GOSUB_RESULT may keep it out of the bridge.
// The caller's hangup, the timeout and each callee's end are callbacks on the model's timers and
// hangups; the first of them to settle the dial wins, so none can act on a dial already decided.
import { randomUUID } from 'node:crypto';
import type { EndpointBehaviour, SimBridge, SimChannel, SimModel } from './model.ts';
import { localDestination, localPair, newUniqueId, parseCallerId } from './originate.ts';

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

/** Every option letter app_dial registers (dial_exec_options); any other is warned about and ignored. */
const KNOWN_OPTIONS = new Set('AabBCcdDEefFgGhHiIjkKLmnNoOpPQrRSstTuUwWxXz');

export interface DialOptions {
  /** `g`: go on in the dialplan after the bridged call if the caller is still up. */
  goOn: boolean;
  /** `r`: indicate ringing to the caller at once. */
  ringback: boolean;
  /** `m[(class)]`: music on hold to the caller instead of ringing (null: not given). */
  moh: string | null;
  /** `a`: the caller is answered as soon as a callee answers, before the others are let go. */
  answerCaller: boolean;
  /** `c`: callees the dial gives up on are hung up as answered elsewhere (cause 26). */
  cancelElsewhere: boolean;
  /** `o[(x)]`: the callee's caller id is the caller's own (or x) (null: not given). */
  originalClid: string | null;
  /** `f[(x)]`: the callee is told x as its connected line (without x: forwards only; null: not given). */
  forcedClid: string | null;
  /** `S(x)`, or `L(x)` without warnings: the callee hangs up this long after the answer (ms). */
  durationMs: number;
  /** `L(x:y...)`: the caller's stay in the bridge ends after this long (ms). */
  bridgeLimitMs: number;
  /** `U(x[^arg...])`: the subroutine run on the callee after the answer, before the bridge. */
  calleeSub: string;
  /** Option letters app_dial does not have (such as `M`, the macro option gone since Asterisk 21). */
  unknown: string[];
  /** A `(` without its `)`: the whole options string is refused (the dial ends before it starts). */
  invalid: boolean;
}

/**
 * app_dial's options string (`gL(60000)S(10)r`, an argument in parentheses), read as main/app.c's
 * parse_options reads it: parentheses nest, an unknown letter is warned about and its argument
 * skipped, and a missing `)` fails the whole string.
 */
export function dialOptions(s: string): DialOptions {
  const o: DialOptions = {
    goOn: false,
    ringback: false,
    moh: null,
    originalClid: null,
    forcedClid: null,
    cancelElsewhere: false,
    answerCaller: false,
    durationMs: 0,
    bridgeLimitMs: 0,
    calleeSub: '',
    unknown: [],
    invalid: false,
  };
  let stop = 0;
  let limit: string[] | null = null;
  for (let i = 0; i < s.length; ) {
    const letter = s[i++]!;
    let arg = '';
    if (s[i] === '(') {
      let depth = 0;
      let j = i;
      for (; j < s.length; j++) {
        if (s[j] === '(') depth++;
        else if (s[j] === ')' && --depth === 0) break;
      }
      if (j >= s.length) {
        o.invalid = true;
        return o;
      }
      arg = s.slice(i + 1, j);
      i = j + 1;
    }
    if (!KNOWN_OPTIONS.has(letter)) o.unknown.push(letter);
    else if (letter === 'g') o.goOn = true;
    else if (letter === 'r') o.ringback = true;
    else if (letter === 'm') o.moh = arg;
    else if (letter === 'o') o.originalClid = arg;
    else if (letter === 'c') o.cancelElsewhere = true;
    else if (letter === 'a') o.answerCaller = true;
    else if (letter === 'f') o.forcedClid = arg;
    else if (letter === 'S') stop = Number.parseFloat(arg) > 0 ? Number.parseFloat(arg) * 1000 : 0;
    else if (letter === 'L') limit = arg.split(':');
    else if (letter === 'U') o.calleeSub = arg;
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

/** An application's arguments split at the commas outside parentheses (ast_app_separate_args). */
export function appArgs(data: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of data) {
    if (ch === '(') depth++;
    else if (ch === ')' && depth > 0) depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** The causes app_dial counts for its final status (handle_cause). */
interface Causes {
  busy: number;
  congestion: number;
  nochan: number;
}

/** handle_cause: busy and congestion are counted as such, a normal clearing or no answer not at all. */
export function countCause(cause: number, n: Causes): void {
  if (cause === 17) n.busy++;
  else if (cause === 34) n.congestion++;
  else if (cause !== 19 && cause !== 16) n.nochan++;
}

/**
 * wait_for_answer once no destination is left: every line that was tried (requested or called)
 * failed with a counted cause gives BUSY if any was busy, else CONGESTION, else CHANUNAVAIL; any
 * other end (one that was not answered in time) leaves NOANSWER.
 */
export function unansweredStatus(lines: number, n: Causes): string {
  if (lines !== n.busy + n.congestion + n.nochan) return 'NOANSWER';
  if (n.busy) return 'BUSY';
  if (n.congestion) return 'CONGESTION';
  return n.nochan ? 'CHANUNAVAIL' : 'NOANSWER';
}

/** ast_hangup_cause_to_dial_status (main/dial.c). */
export function hangupDialStatus(cause: number): string {
  if (cause === 17) return 'BUSY';
  if (cause === 34) return 'CONGESTION';
  if (cause === 3 || cause === 20) return 'CHANUNAVAIL';
  return 'NOANSWER';
}

/** set_duration_var: whole seconds as `<base>`, milliseconds as `<base>_MS`. */
function duration(model: SimModel, c: SimChannel, base: string, ms: number): void {
  const v = Math.max(0, Math.floor(ms));
  model.setVar(c, base, String(Math.floor(v / 1000)));
  model.setVar(c, `${base}_MS`, String(v));
}

/** Callers hearing app_dial's music on hold (option `m`), which the dial stops when it ends. */
const dialMoh = new WeakSet<SimChannel>();

/**
 * ast_moh_start for `m`: the class is the first res_musiconhold has of the channel's, the one
 * given and `default`; the simulator's musiconhold.conf is the stock one, with `default` only.
 * AMI MusicOnHoldStart (its Class); ARI has no event for it.
 */
function mohStart(model: SimModel, c: SimChannel): void {
  dialMoh.add(c);
  c.moh = true;
  model.emit('moh', c, 'default');
}

/** ast_moh_stop when the dial ends (answered, or at its `out:`): AMI MusicOnHoldStop. */
function mohStop(model: SimModel, c: SimChannel): void {
  if (!dialMoh.delete(c)) return;
  c.moh = false;
  model.emit('moh', c, null);
}

/** ast_indicate(caller, AST_CONTROL_RINGING): through a Local `;2` the `;1` half turns Ringing. */
function indicateRinging(model: SimModel, c: SimChannel): void {
  c.ringback = c.state === 'Up' ? 'inband' : 'far';
  const peer = c.peer && c.name.endsWith(';2') ? model.channels.get(c.peer) : undefined;
  if (peer && peer.state !== 'Up') model.setState(peer, 'Ringing');
}

/**
 * The callee channel app_dial requests (chan_pjsip's outgoing channel, state Down; or a Local
 * pair's `;1`, its `;2` made beside it), set up as dial_exec_full sets it before calling it.
 */
function requestCallee(
  model: SimModel,
  c: SimChannel,
  tc: SimChannel,
  number: string,
  opts: DialOptions,
): SimChannel {
  model.setVar(tc, 'DIALEDPEERNUMBER', number);
  // ast_channel_inherit_variables: `__X` keeps its name, `_X` is copied as `X`; no VarSet.
  for (const [k, v] of c.vars) {
    if (k.startsWith('__')) tc.vars.set(k, v);
    else if (k.startsWith('_')) tc.vars.set(k.slice(1), v);
  }
  tc.dialplan = { ...tc.dialplan, exten: c.dialplan.exten, app_name: 'AppDial', app_data: '(Outgoing Line)' };
  tc.caller = calleeCaller(c, opts);
  // `f(x)` sends x as who is calling; `f` alone applies to call forwards only.
  tc.connected = opts.forcedClid ? parseCallerId(opts.forcedClid) : { ...c.caller };
  requestorAccountcodes(tc, c);
  model.publish(tc);
  return tc;
}

/**
 * The caller id app_dial stores on a callee whose driver preset none: with `o` the caller's own
 * (or the one `o(x)` names), else the caller's extension with its connected-line name.
 */
export function calleeCaller(c: SimChannel, opts: DialOptions): { name: string; number: string } {
  if (opts.originalClid === null) return { name: c.connected.name, number: c.dialplan.exten };
  return opts.originalClid ? parseCallerId(opts.originalClid) : { ...c.caller };
}

/**
 * ast_channel_req_accountcodes(callee, caller, AST_CHANNEL_REQUESTOR_BRIDGE_PEER), not precious:
 * the caller's peer account (CHANNEL(peeraccount) set before the dial), else its account code,
 * becomes the callee's account code over the endpoint's; the caller's account code its peer
 * account. Published with the callee's staged snapshot (NewAccountCode between NewCallerid and
 * NewConnectedLine, as the snapshot monitors run).
 */
export function requestorAccountcodes(tc: SimChannel, c: SimChannel): void {
  if (c.peeraccount) tc.accountcode = c.peeraccount;
  else if (c.accountcode) tc.accountcode = c.accountcode;
  if (c.accountcode) tc.peeraccount = c.accountcode;
}

/** One called destination (app_dial's chanlist entry). */
interface Leg {
  tc: SimChannel;
  number: string;
  b: EndpointBehaviour;
  /** A Local destination: the pair's `;2`, which runs the dialplan once `;1` (tc) is called. */
  two?: SimChannel;
  /** DIAL_STILLGOING: called and not yet answered, refused or hung up. */
  going: boolean;
}

/** What the interpreter lends app_dial: Gosub for `U`, and a goto for GOSUB_RESULT. */
export interface DialEnv {
  /**
   * ast_app_exec_sub on the callee: runs `<context>,s,1(<args>)` until Return. Resolves false when
   * the subroutine could not start (no such place), true once it ran (returned or not).
   */
  gosub: (peer: SimChannel, context: string, args: string[]) => Promise<boolean>;
  /** ast_parseable_goto on the caller (`[[context,]exten,]priority`): false when it cannot go there. */
  goto: (target: string) => boolean;
}

/**
 * Runs Dial(<data>) on `c`. Resolves `true` when the dialplan goes on after it (the dial failed,
 * or `g` after a bridged call), `false` when the caller is gone or stays connected.
 */
export async function dialApp(model: SimModel, c: SimChannel, data: string, env: DialEnv): Promise<boolean> {
  for (const v of EMPTIED) model.setVar(c, v, '');
  const [peers = '', timeout = '', options = ''] = appArgs(data);
  const opts = dialOptions(options);
  for (const letter of opts.unknown) model.emit('log', 'WARNING', `Unrecognized option: '${letter}'`);
  if (!model.channels.has(c.id)) return false;
  // Options that do not parse: DIALSTATUS stays empty and Dial returns -1 (the caller is hung up).
  if (opts.invalid) {
    model.setVar(c, 'DIALSTATUS', '');
    model.hangup(c.id, c.hangupCause ?? 16);
    return false;
  }
  const num: Causes = { busy: 0, congestion: 0, nochan: 0 };
  const legs: Leg[] = [];
  const dests = peers
    .split('&')
    .map((d) => d.trim())
    .filter(Boolean);
  // Each destination is requested in turn (ast_request): a channel made, or a cause counted.
  for (const [i, dest] of dests.entries()) {
    const slash = dest.indexOf('/');
    const tech = slash < 0 ? dest : dest.slice(0, slash);
    const number = slash < 0 ? '' : dest.slice(slash + 1);
    if (!number) {
      // "Dial argument takes format (technology/resource)": the channels requested so far are
      // hung up unheard, DIALSTATUS is empty and Dial returns -1.
      model.emit('log', 'WARNING', 'Dial argument takes format (technology/resource)');
      for (const l of legs) model.hangup(l.tc.id, 0, false, false);
      model.setVar(c, 'DIALSTATUS', '');
      model.hangup(c.id, c.hangupCause ?? 16);
      return false;
    }
    const linkedid = c.linkedid ?? c.id;
    if (/^local$/i.test(tech)) {
      // chan_local's request makes the pair (both halves take the caller's Linkedid); whether
      // its extension exists is only looked at when it is called.
      const pair = localPair(model, localDestination(number), { linkedid });
      legs.push({
        tc: requestCallee(model, c, pair.one, number, opts),
        number,
        b: {},
        two: pair.two,
        going: false,
      });
      continue;
    }
    // PJSIP/<endpoint> or PJSIP/<number>@<endpoint> (a number sent through a trunk endpoint).
    const at = number.indexOf('@');
    const name = at < 0 ? number : number.slice(at + 1);
    let b: EndpointBehaviour | undefined;
    if (/^pjsip$/i.test(tech))
      b = model.endpoints.get(name) ?? ((await model.realtime(name)) ? {} : undefined);
    if (!model.channels.has(c.id)) break;
    // No such channel type (the simulator's Dial has PJSIP and Local): 66; no endpoint, or none
    // reachable: 3.
    const refused = !/^pjsip$/i.test(tech) ? 66 : !b || b.result === 'unavailable' ? 3 : 0;
    if (refused) {
      countCause(refused, num);
      // The cause of the last destination's failure stays on the caller.
      if (i === dests.length - 1) c.hangupCause = refused;
      continue;
    }
    const accountcode = await model.pjsip.accountcode(name);
    if (!model.channels.has(c.id)) break;
    const tc = model.create({
      id: newUniqueId(),
      name: model.nextName(`PJSIP/${name}`),
      linkedid,
      endpoint: name,
      ...(accountcode ? { accountcode } : {}),
    });
    legs.push({ tc: requestCallee(model, c, tc, number, opts), number, b: b!, going: false });
  }
  if (!model.channels.has(c.id)) {
    for (const l of legs) model.hangup(l.tc.id, 0, false, false);
    return false;
  }
  // All are called (DialBegin for each, in order) before any is waited on. A Local line whose
  // extension does not exist fails its call (local_call): it is hung up and dropped from the
  // list, its cause (none) not counted, so it is no line of wait_for_answer's either.
  let lines = dests.length;
  for (const l of [...legs]) {
    if (l.two && !model.callLocal(l.tc, l.two)) {
      // The call failed: app_dial hangs `;1` up (no cause, no request), which takes the
      // never-called `;2` with it first.
      model.hangup(l.tc.id, 0, false, false);
      legs.splice(legs.indexOf(l), 1);
      lines--;
      continue;
    }
    model.appDialEvent(c, l.tc, '', l.number);
    l.going = true;
  }
  if (!legs.length) {
    // Nothing called: CHANUNAVAIL, unless the destinations that could not be requested were all
    // busy or congested (wait_for_answer with no line left).
    model.setVar(c, 'DIALSTATUS', num.busy ? 'BUSY' : num.congestion ? 'CONGESTION' : 'CHANUNAVAIL');
    return true;
  }
  const report = (l: Leg, status: string) => model.appDialEvent(c, l.tc, status, '');
  const stillGoing = () => legs.filter((l) => l.going);
  // publish_dial_end_event, then hanguptree: every callee still going is told how the dial ended,
  // then each is hung up with the cause given (no hangup request).
  const endGoing = (status: string, cause: number, between?: () => void) => {
    const going = stillGoing();
    for (const l of going) report(l, status);
    between?.();
    for (const l of going) {
      l.going = false;
      model.hangup(l.tc.id, cause, false, false);
    }
  };
  let sentRinging = false;
  // `m` plays music on hold instead of any ringing (and indicates progress, not modelled).
  if (opts.moh !== null) mohStart(model, c);
  else if (opts.ringback) {
    indicateRinging(model, c);
    sentRinging = true;
  }
  let ringTimeSet = false;
  const limit = (Number.parseFloat(timeout) || 0) * 1000;

  // wait_for_answer: every callee rings and answers, refuses or keeps ringing by its endpoint's
  // behaviour; the first answer wins; the timeout, if any, runs from the start for all of them.
  type Outcome = { kind: 'answer'; leg: Leg } | { kind: 'none' | 'timeout' | 'cancel' };
  const outcome = await new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (settled) return false;
      settled = true;
      c.onHangup = undefined;
      resolve(o);
      return true;
    };
    // The caller hanging up ends the dial: CANCEL for every callee still going, then each is
    // hung up (cause 16).
    c.onHangup = () => {
      if (!settle({ kind: 'cancel' })) return;
      mohStop(model, c);
      // hanguptree's cause: answered elsewhere with `c`, else the caller's normal clearing.
      endGoing('CANCEL', opts.cancelElsewhere ? 26 : 16);
      model.setVar(c, 'DIALSTATUS', 'CANCEL');
    };
    if (limit)
      model.later(c, limit, () => {
        // "Nobody picked up": NOANSWER for each still going, then each hung up with no cause.
        if (settle({ kind: 'timeout' })) endGoing('NOANSWER', opts.cancelElsewhere ? 26 : 0);
      });
    // The callee rang: ringing indicated to the caller once, RINGTIME from the first callee that
    // rings (since that callee's creation), DialState RINGING.
    const rang = (l: Leg) => {
      if (!sentRinging && opts.moh === null) indicateRinging(model, c);
      sentRinging = true;
      if (!ringTimeSet)
        duration(
          model,
          c,
          'RINGTIME',
          Date.now() - (Date.parse(l.tc.creationtime.replace('+0000', 'Z')) || 0),
        );
      ringTimeSet = true;
      report(l, 'RINGING');
    };
    const answer = (l: Leg) => {
      if (!settle({ kind: 'answer', leg: l })) return;
      l.going = false;
      // The others are told they were cancelled (wait_for_answer), then hung up: answered
      // elsewhere (26). With `a` the caller is answered in between (OPT_CALLER_ANSWER, once
      // wait_for_answer has returned, before hanguptree).
      endGoing('CANCEL', 26, opts.answerCaller ? () => model.setState(c, 'Up') : undefined);
    };
    for (const l of legs) {
      const { tc, b, two } = l;
      // A callee hung up while it is still going (refused, or hung up by anyone else): the caller
      // takes its cause, the dial ends with the status that cause gives, and the cause is counted.
      tc.onHangup = (cause) => {
        if (settled || !l.going) return;
        l.going = false;
        c.hangupCause = cause;
        report(l, hangupDialStatus(cause));
        countCause(cause, num);
        if (!stillGoing().length) settle({ kind: 'none' });
      };
      if (two) {
        // A Local line progresses as its `;2` does: ringing and the answer reach `;1`; a busy or
        // congestion indication is read on `;1` (the caller takes `;1`'s cause, none), reported,
        // and `;1` hung up by app_dial, which takes `;2` with it.
        tc.onProgress = (what) => {
          if (settled || !l.going) return;
          if (what === 'RINGING') return rang(l);
          l.going = false;
          tc.onProgress = undefined;
          c.hangupCause = tc.hangupCause ?? 0;
          report(l, what);
          model.hangup(tc.id, 0, false, false);
          countCause(what === 'BUSY' ? 17 : 34, num);
          if (!stillGoing().length) settle({ kind: 'none' });
        };
        model.onceUp(tc.id, () => {
          tc.onProgress = undefined;
          if (!settled && l.going) answer(l);
        });
        // `;2`'s PBX thread, started by local_call, runs beside the dial.
        void model.runDialplan(two, two.dialplan.context, two.dialplan.exten);
        continue;
      }
      const result = b.result ?? 'answer';
      const ringMs = b.answerAfterMs ?? 50;
      // The endpoint rings at once (5 ms, or its answer delay if shorter).
      model.later(tc, Math.min(5, ringMs), () => {
        if (settled || !l.going) return;
        model.setState(tc, 'Ringing');
        rang(l);
      });
      if (result === 'noanswer') continue;
      model.later(tc, ringMs, () => {
        if (settled || !l.going) return;
        // The far end's refusal ends the session: chan_pjsip queues a hangup with its cause (a
        // hangup request), which app_dial reads as the callee gone (above).
        if (result === 'busy' || result === 'congestion')
          return model.hangup(tc.id, result === 'busy' ? 17 : 34);
        model.setState(tc, 'Up');
        answer(l);
      });
    }
  });
  for (const l of legs) l.tc.onProgress = undefined;
  if (outcome.kind === 'cancel') return false;
  if (outcome.kind !== 'answer') {
    // The ringing indicated to the caller stops (ast_indicate(chan, -1)).
    c.ringback = undefined;
    mohStop(model, c);
    model.setVar(c, 'DIALSTATUS', outcome.kind === 'timeout' ? 'NOANSWER' : unansweredStatus(lines, num));
    return true;
  }
  return answered(model, c, outcome.leg, opts, env);
}

/** The callee answered: app_dial's peer handling from the answer to the end of the bridged call. */
async function answered(
  model: SimModel,
  c: SimChannel,
  l: Leg,
  opts: DialOptions,
  env: DialEnv,
): Promise<boolean> {
  const { tc, b } = l;
  // wait_for_answer clears the peer's extension; a normal hangup is what both ends expect now.
  tc.dialplan = { ...tc.dialplan, exten: '' };
  tc.hangupCause = 16;
  c.hangupCause = 16;
  let status = 'ANSWER';
  model.setVar(c, 'DIALSTATUS', status);
  model.setVar(c, 'DIALEDPEERNAME', tc.name);
  model.setVar(c, 'DIALEDPEERNUMBER', l.number);
  if (opts.calleeSub) {
    const result = await calleeGosub(model, c, tc, opts.calleeSub, env);
    if (!model.channels.has(c.id)) {
      model.hangup(tc.id, tc.hangupCause ?? 16, false, false);
      return false;
    }
    if (result) {
      // Any of the results that keep the callee out of the bridge: the dial ends with it as its
      // status, the callee is hung up, and the caller goes on (g, CONTINUE, a GOTO that went) or
      // is hung up (Dial returns -1).
      model.appDialEvent(c, tc, result.event, '');
      if (model.channels.has(tc.id)) model.hangup(tc.id, tc.hangupCause ?? 16, false, false);
      else c.hangupCause = tc.hangupCause ?? c.hangupCause;
      c.ringback = undefined;
      mohStop(model, c);
      if (result.status) status = result.status;
      model.setVar(c, 'DIALSTATUS', status);
      if (result.goOn || opts.goOn) return true;
      model.hangup(c.id, c.hangupCause ?? 16);
      return false;
    }
  }
  model.appDialEvent(c, tc, 'ANSWER', '');
  // features.c pre_bridge_setup answers the caller; the ringing it was given stops.
  c.ringback = undefined;
  mohStop(model, c);
  model.setState(c, 'Up');
  if (!model.channels.has(tc.id)) {
    // A callee gone during the subroutine: the bridge ends as soon as it starts.
    duration(model, c, 'ANSWEREDTIME', 0);
    duration(model, c, 'DIALEDTIME', Date.now() - (Date.parse(c.creationtime.replace('+0000', 'Z')) || 0));
    model.setVar(c, 'DIALSTATUS', status);
    if (opts.goOn) return true;
    model.hangup(c.id, 16);
    return false;
  }
  const made = model.createBridge(randomUUID(), 'mixing', '', true);
  let bridge: SimBridge | undefined = made;
  model.enterBridge(tc, made);
  model.enterBridge(c, made);
  // The caller hanging up ends the bridged call (the bridge dissolves, end_bridge_callback sets
  // the times).
  c.onHangup = () => {
    if (bridge) endBridged(model, c, tc, bridge, 'caller', status);
    bridge = undefined;
  };
  return new Promise<boolean>((resolve) => {
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
    // A blind transfer of either party (main/bridge.c's two-party path): the transferee's queued
    // action runs first (ast_async_goto to the place, then kicked out, cause 16), then the
    // transferer is pulled by ast_bridge_remove and the empty bridge dissolves.
    made.blindTransfer = (transferer, context, exten) => {
      const b2 = bridge;
      if (!b2 || !model.bridges.has(b2.id)) return;
      bridge = undefined;
      c.onHangup = undefined;
      tc.onHangup = undefined;
      const transferee = transferer === c ? tc : c;
      for (const x of [transferee, transferer]) if (x.bridge === b2.id) model.leaveBridge(x);
      if (model.bridges.has(b2.id)) model.destroyBridge(b2);
      if (transferee === c) {
        // The callee, imparted independent, has no after-bridge place: hung up with no request.
        // The caller left with AST_SOFTHANGUP_ASYNCGOTO, so ast_bridge_call returns 0 without
        // end_bridge_callback; Dial sets DIALSTATUS and the PBX goes on at the new place.
        model.hangup(tc.id, 16, false, false);
        model.setVar(c, 'DIALSTATUS', status);
        resolve(false);
        void model.runDialplan(c, context, exten, 1);
        return;
      }
      // The callee gets a PBX of its own there (ast_bridge_run_after_goto); the caller, removed,
      // ends the bridged call as if it had left it: end_bridge_callback, DIALSTATUS, and Dial
      // returns -1 unless `g`.
      tc.dialplan = { ...tc.dialplan, context, exten, priority: 1 };
      void model.runDialplan(tc, context, exten, 1);
      bridgedCallEnd(model, c, status);
      if (opts.goOn) return resolve(true);
      model.hangup(c.id, 16);
      resolve(false);
    };
    // The caller's own hangup ends it in onHangup (above) and the PBX is done with it.
    model.onceExit(c.id, () => resolve(false));
    if (opts.durationMs > 0)
      // The callee's whentohangup: its timeout flag, no hangup request, cause 16 from the answer.
      // A bridge feature: gone with the bridge (a transferred callee keeps its call).
      model.later(tc, opts.durationMs, () => bridge && model.hangup(tc.id, 16, false, false));
    if (opts.bridgeLimitMs > 0) model.later(c, opts.bridgeLimitMs, () => end('caller'));
    if (b.hangupAfterMs !== undefined) model.later(tc, b.hangupAfterMs, () => model.hangup(tc.id, 16));
  });
}

/** What GOSUB_RESULT made of the answered call, when it keeps the callee out of the bridge. */
interface SubResult {
  /** The DialEnd status: GOSUB_RESULT as it was read (a GOTO's `^` already turned into `,`). */
  event: string;
  /** DIALSTATUS when not ANSWER (BUSY, CONGESTION, CHANUNAVAIL). */
  status?: string;
  /** The caller goes on in the dialplan whatever `g` says. */
  goOn: boolean;
}

/**
 * `U(<context>[^<arg>...])`: Gosub on the callee at `<context>,s,1`, then GOSUB_RESULT as
 * dial_exec_full reads it: BUSY, CONGESTION or CHANUNAVAIL (that DIALSTATUS, go on), CONTINUE (go
 * on), ABORT (hang both up unless `g`), GOTO:<place> (the caller goes there). GOSUB_RETVAL is
 * copied to the caller. Anything else, or no GOSUB_RESULT, or a subroutine that could not start,
 * lets the call be bridged.
 */
export async function calleeGosub(
  model: SimModel,
  c: SimChannel,
  tc: SimChannel,
  spec: string,
  env: DialEnv,
): Promise<SubResult | null> {
  const [context = '', ...args] = spec.replace(/\^/g, ',').split(',');
  if (!(await env.gosub(tc, context, args))) return null;
  const result = tc.vars.get('GOSUB_RESULT');
  if (result === undefined) return null;
  const retval = tc.vars.get('GOSUB_RETVAL');
  if (retval !== undefined) model.setVar(c, 'GOSUB_RETVAL', retval);
  return gosubResult(result, env.goto);
}

/** The decision GOSUB_RESULT makes (pure but for the goto it performs). */
export function gosubResult(result: string, goto: (target: string) => boolean): SubResult | null {
  const upper = result.toUpperCase();
  if (upper === 'BUSY' || upper === 'CONGESTION' || upper === 'CHANUNAVAIL')
    return { event: result, status: result, goOn: true };
  if (upper === 'CONTINUE') return { event: result, goOn: true };
  if (upper === 'ABORT') return { event: result, goOn: false };
  if (upper.startsWith('GOTO:')) {
    const target = result.slice(5).replace(/\^/g, ',');
    return { event: `${result.slice(0, 5)}${target}`, goOn: goto(target) };
  }
  return null;
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
  bridgedCallEnd(model, c, status);
}

/** app_dial's end_bridge_callback (the answered and dialled times), then DIALSTATUS once more. */
function bridgedCallEnd(model: SimModel, c: SimChannel, status: string): void {
  duration(model, c, 'ANSWEREDTIME', c.upAt === undefined ? 0 : Date.now() - c.upAt);
  duration(model, c, 'DIALEDTIME', Date.now() - (Date.parse(c.creationtime.replace('+0000', 'Z')) || 0));
  model.setVar(c, 'DIALSTATUS', status);
}
