// The simulator's data: channels, bridges and dials as the model holds them, Asterisk's cause
// tables, and the small pure helpers the model and its transports share (a channel's published
// snapshot, its caller presentation, Asterisk's timestamp format).
import q850 from '../q850-causes.json' with { type: 'json' };

export interface EndpointBehaviour {
  result?: 'answer' | 'busy' | 'noanswer' | 'congestion' | 'unavailable';
  answerAfterMs?: number;
  hangupAfterMs?: number;
}

export interface SimChannel {
  id: string;
  name: string;
  state: 'Down' | 'Ring' | 'Ringing' | 'Up' | 'Busy';
  caller: { name: string; number: string };
  connected: { name: string; number: string };
  dialplan: { context: string; exten: string; priority: number; app_name: string; app_data: string };
  creationtime: string;
  vars: Map<string, string>;
  app: string | null; // the Stasis app holding it
  fromDialplan: boolean; // left Stasis -> back to the dialplan (no ChannelDestroyed in the app)
  /** A connected-line update from the other half not yet read (see SimModel.setConnected). */
  pendingCaller?: { name: string; number: string };
  bridge: string | null;
  endpoint: string | null;
  timers: NodeJS.Timeout[];
  dialing: boolean;
  /** Uniqueid of the oldest channel of the call (AMI Linkedid); the channel's own id when unset. */
  linkedid?: string;
  /**
   * The app subscribed to the channel for its whole life (it made it with channels/create or
   * POST /channels): it sees the channel's events outside Stasis too, ChannelDestroyed included.
   * A channel that entered Stasis from the dialplan is the app's only while in Stasis.
   */
  owner?: string | null;
  /** The other half of a Local channel pair. */
  peer?: string;
  /** A Local pair made with option `n`: it may not optimise itself away (LocalBridge says so). */
  noOptimize?: boolean;
  /**
   * The account code (an AMI Originate's `Account`; none by default) and the peer account, which
   * chan_local crosses over to a pair's `;2` (its accountcode is `;1`'s peeraccount).
   */
  accountcode?: string;
  peeraccount?: string;
  /** A dial in progress towards this channel (ARI channels/dial, or an originate). */
  dial?: DialState;
  /** The `;2` half of a Local pair was called (its dialplan started). */
  called?: boolean;
  /** The hangup cause set before the hangup (Busy/Congestion, a failed Dial); Hangup() with no cause uses it. */
  hangupCause?: number;
  /**
   * How an originate's dial of the channel ended without an answer, as pbx.c's pbx_dial_reason
   * reads the dial's cause: 5 busy and 8 congestion indicated, 3 the dial timeout; 0 for a far
   * side that just hung up (the dial's cause stays unset).
   */
  dialReason?: number;
  /**
   * Counts the dialplan runs started on the channel: a run that finds a later one started (ARI
   * `continue` to another place) stops, as Asterisk's PBX goes on from the new place only.
   */
  dialplanRun?: number;
  /** Where the channel was (application and data) before it entered Stasis. */
  beforeStasis?: { app_name: string; app_data: string };
  /**
   * Ringing indicated to the channel (ARI `ring`): `far` on a channel not answered (PJSIP sends 180
   * and the far side plays ringback until the answer), `inband` on an answered one (Asterisk plays
   * the tone itself, a generator on the channel). Either goes on whatever happens to the app's
   * WebSocket: Asterisk keeps reading the channel in Stasis, which drives its generator.
   */
  ringback?: 'far' | 'inband';
  /** Music on hold started on the channel (ARI `moh`): a generator too, kept without the app. */
  moh?: boolean;
  /** TIMEOUT(absolute): when (epoch ms) Asterisk hangs the channel up by itself, and its timer. */
  hangupAt?: number;
  /** When it went Up (ms): what RTP statistics count from. */
  upAt?: number;
  absoluteTimer?: NodeJS.Timeout;
  /** What AMI and ARI last published of the channel (see SimModel.publish). */
  published?: Published;
  /**
   * A bridge's media channel (chan_bridge_media: `Announcer/ARI-…` for bridge playbacks,
   * `Recorder/ARI-…` for bridge recordings): a pair whose `;2` sits in the bridge and whose `;1`
   * runs the media. Internal to Stasis: no app holds it.
   */
  media?: 'Announcer' | 'Recorder';
  /** What CDR() wrote for the channel's record: its userfield and its variables (func_cdr.c). */
  cdr?: { userfield?: string; vars: Map<string, string> };
  /**
   * Called as the channel is hung up, after its hangup request and before it leaves its bridge and
   * Stasis: an application running on it (app_dial) finishing its work, as it does in Asterisk.
   */
  onHangup?: (cause: number) => void;
  /**
   * app_dial waiting on the channel (a Local `;1` it called): the far side's progress as the
   * channel reads it, ringing or a busy or congestion indication (the answer is a waiter, `up`).
   */
  onProgress?: (what: 'RINGING' | 'BUSY' | 'CONGESTION') => void;
  /** Joined its bridge with `absorbDTMF`: the DTMF it reads is not passed to the other parties. */
  absorbDtmf?: boolean;
  /**
   * Its far end is silent (sim.setFarEndSilent): what silence detection hears. The simulated far
   * end talks unless told otherwise.
   */
  farSilent?: boolean;
}

/** The parts of a channel snapshot whose changes Asterisk's snapshot monitors report. */
export interface Published {
  context: string;
  exten: string;
  priority: number;
  appl: string;
  caller: { name: string; number: string };
  accountcode: string;
  connected: { name: string; number: string };
}

export const published = (c: SimChannel): Published => ({
  context: c.dialplan.context,
  exten: c.dialplan.exten,
  priority: c.dialplan.priority,
  appl: c.dialplan.app_name,
  caller: c.caller,
  accountcode: c.accountcode ?? '',
  connected: c.connected,
});

/**
 * A caller's presentation as ast_party_id_presentation combines it: the simulator's parties are
 * all allowed (0), and a party with neither name nor number is "Number Unavailable" (67).
 */
export const presentation = (c: SimChannel): [number, string] =>
  c.caller.name || c.caller.number ? [0, 'Presentation Allowed, Not Screened'] : [67, 'Number Unavailable'];

export const sameParty = (a: { name: string; number: string }, b: { name: string; number: string }) =>
  a.name === b.name && a.number === b.number;

/** Whether the channel's reported parts are still what was published (see `published`). */
export const unchanged = (was: Published, c: SimChannel): boolean =>
  was.context === c.dialplan.context &&
  was.exten === c.dialplan.exten &&
  was.priority === c.dialplan.priority &&
  was.appl === c.dialplan.app_name &&
  sameParty(was.caller, c.caller) &&
  was.accountcode === (c.accountcode ?? '') &&
  sameParty(was.connected, c.connected);

export interface SimBridge {
  id: string;
  type: string;
  name: string;
  channels: Set<string>;
  creationtime: string;
  /** Apps that have seen the bridge (their channels entered it): they hear BridgeDestroyed. */
  apps: Set<string>;
  vars: Map<string, string>;
  moh: boolean;
  /**
   * The bridge technology as of its last reconfiguration (main/bridge.c smart_bridge_operation):
   * a mixing bridge is native_rtp for two PJSIP channels that are both up, when it may bridge
   * natively, else simple_bridge for up to two channels and softmix for more; holding_bridge.
   */
  technology: string;
  /**
   * Its allowed capabilities as bridge_create_common (or ast_bridge_basic_new) set them:
   * `native` AST_BRIDGE_CAPABILITY_NATIVE (a mixing bridge unless proxy_media or dtmf_events came
   * after `mixing`), `multimixOnly` a video_sfu bridge (softmix whatever its channels).
   */
  caps: { native: boolean; multimixOnly: boolean };
  /** ARI's video_mode: talker, single or sfu (a basic bridge: none). */
  videoMode: 'talker' | 'single' | 'sfu';
  /**
   * A basic bridge a dialplan application made (app_dial's ast_bridge_call), not a Stasis one:
   * class `basic`, no creator or name, video mode none; its parties join with connected-line
   * updates inhibited, and it dissolves when one of them leaves.
   */
  basic?: boolean;
  /**
   * A blind transfer of one of a basic bridge's two parties, carried out by the application that
   * bridged them (app_dial: the other party is sent to `exten@context`, the transferer removed).
   * Set while that application can take one; main/bridge.c's two-party path.
   */
  blindTransfer?: (transferer: SimChannel, context: string, exten: string) => void;
}

export interface DialState {
  /** The dialled string as Asterisk reports it (`exten@context` for a Local channel). */
  dialstring: string;
  /**
   * An originate's dial (POST /channels, AMI Originate: main/dial.c with no caller), which reports
   * the far side's hangup with a final status and leaves its reason in the channel's `dialReason`.
   */
  originate: boolean;
  status: '' | 'RINGING' | 'ANSWER';
}

/**
 * The dial status dial.c reports for a dialled channel that hangs up before answering
 * (ast_hangup_cause_to_dial_status).
 */
export function dialStatusOf(cause: number): string {
  if (cause === 17) return 'BUSY';
  if (cause === 34) return 'CONGESTION';
  if (cause === 3 || cause === 20) return 'CHANUNAVAIL';
  return 'NOANSWER';
}

/**
 * Q.850 causes in Asterisk's words (what ast_cause2str answers, the `cause_txt` of ARI and the
 * `Cause-txt` of AMI). Kept as data, beside this file, because it is Asterisk's table verbatim,
 * texts included: a cause's wording is wire text the simulator must send as Asterisk does.
 */
export const CAUSE_TXT: Readonly<Record<number, string>> = q850.causes;

/** ARI's hangup reasons and the causes Asterisk maps them to (convert_reason_to_hangup_code). */
export const REASON_CAUSE: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

/** Orders uniqueids `<epoch>.<seq>` oldest first (other ids after them, as strings). */
export function byAge(a: string, b: string): number {
  const x = /^(\d+)\.(\d+)$/.exec(a);
  const y = /^(\d+)\.(\d+)$/.exec(b);
  if (x && y) return Number(x[1]) - Number(y[1]) || Number(x[2]) - Number(y[2]);
  return x ? -1 : y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/** Asterisk's timestamp format: 2026-11-23T05:30:00.123+0000 */
export function asteriskTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

let nowMs = Number.NaN;
let nowText = '';

/** `asteriskTime(new Date())`, formatted once per millisecond (the events of a burst share it). */
export function asteriskNow(): string {
  const ms = Date.now();
  if (ms !== nowMs) {
    nowMs = ms;
    nowText = asteriskTime(new Date(ms));
  }
  return nowText;
}
