// A call's state as kept in Redis while it lives (pure; call-store.ts does the I/O): one small hash
// per call holding what its CDR needs and what another instance needs to take it over if its own
// dies — ids, DID, campaign and seller, start, phase, the attempts so far. Written when the call
// enters Stasis and again whenever something a takeover would act on changes (not on every event),
// removed once its CDR is written.
import type { Attempt, CallPhase, CallState } from './call.ts';
import type { RoutePlan } from './catalog.ts';
import type { SlotRef } from './slots.ts';

/** What a takeover reads back. */
export interface CallRecord {
  callId: string;
  callerChannelId: string;
  nodeId: string;
  app: string;
  did: string;
  callerNumber: string;
  campaignId: string | null;
  /** The DID's own campaign when a default route sent the call to another one. */
  homeCampaignId: string | null;
  sellerId: string | null;
  startedAt: number;
  phase: CallPhase;
  answeredAt: number | null;
  /** When the caller was answered (hold music, a message, a client), if it was. */
  callerAnsweredAt: number | null;
  attempts: Array<Omit<Attempt, 'slot'>>;
  maxAttempts: number;
  reroutes: number;
  defaultRoute: string | null;
  /** When the caller left our app for the default route's dialplan context. */
  handedOffAt: number | null;
  /** The instance that owns the call (set when the record is made, changed only by a takeover). */
  owner: string;
  /** When the owner last wrote the record (ms). */
  updatedAt: number;
}

/**
 * What must be written again when it changes: the phase as a takeover tells phases apart (ringing
 * is dialing with the leg in Stasis: the leg itself says which), each attempt's leg and whether it
 * ended, the answer and the caller's (a dialplan context's answer), reroutes and a default route taken. Everything else only rides along.
 */
export function recordSig(s: CallState): string {
  const phase = s.phase === 'ringing' ? 'dialing' : s.phase;
  const att = s.attempts.map((a) => `${a.legId}${a.endedAt ? '.' : ''}`).join(',');
  // The caller's answer too: in a dialplan context it comes alone (the carrier bills from it).
  return `${phase}|${att}|${s.answeredAt ? 1 : 0}|${s.callerAnsweredAt ? 1 : 0}|${s.reroutes ?? 0}|${s.defaultRoute ?? ''}`;
}

/** The hash fields of a call's record. `owner` is written only when the record is made. */
export function encodeRecord(s: CallState, now: number, owner?: string): Record<string, string> {
  const attempts = s.attempts.map((a) => {
    const { slot: _slot, ...rest } = a;
    return rest;
  });
  const h: Record<string, string> = {
    id: s.callId,
    ch: s.callerChannelId,
    node: s.nodeId,
    app: s.app,
    did: s.did,
    num: s.callerNumber,
    camp: s.plan?.campaign?.id ?? '',
    home: s.homeCampaignId ?? '',
    seller: s.plan?.sellerId ?? '',
    t0: String(s.startedAt),
    ph: s.phase,
    ans: s.answeredAt ? String(s.answeredAt) : '',
    cans: s.callerAnsweredAt ? String(s.callerAnsweredAt) : '',
    att: JSON.stringify(attempts),
    max: String(s.maxAttempts),
    rr: String(s.reroutes ?? 0),
    dr: s.defaultRoute ?? '',
    ho: s.handedOffAt ? String(s.handedOffAt) : '',
    up: String(now),
  };
  if (owner !== undefined) h.own = owner;
  return h;
}

const PHASES: readonly CallPhase[] = [
  'routing',
  'dialing',
  'ringing',
  'bridged',
  'message',
  'queued',
  'dialplan',
  'ended',
];
const num = (v: string | undefined) => {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) ? n : null;
};

/** A record read back, or null when it is not one (a partial write, another version's shape). */
export function decodeRecord(h: Record<string, string>): CallRecord | null {
  const startedAt = num(h.t0);
  const phase = h.ph as CallPhase;
  if (!h.id || !h.node || startedAt === null || !PHASES.includes(phase)) return null;
  let attempts: CallRecord['attempts'];
  try {
    const parsed: unknown = JSON.parse(h.att ?? '[]');
    if (!Array.isArray(parsed)) return null;
    attempts = parsed as CallRecord['attempts'];
  } catch {
    return null;
  }
  return {
    callId: h.id,
    callerChannelId: h.ch ?? '',
    nodeId: h.node,
    app: h.app ?? '',
    did: h.did ?? '',
    callerNumber: h.num ?? '',
    campaignId: h.camp || null,
    homeCampaignId: h.home || null,
    sellerId: h.seller || null,
    startedAt,
    phase,
    answeredAt: num(h.ans),
    callerAnsweredAt: num(h.cans),
    attempts,
    maxAttempts: num(h.max) ?? 1,
    reroutes: num(h.rr) ?? 0,
    defaultRoute: h.dr || null,
    handedOffAt: num(h.ho),
    owner: h.own ?? '',
    updatedAt: num(h.up) ?? startedAt,
  };
}

/**
 * The call's state rebuilt from its record, the plan it is routed by now (`null`: its DID is not
 * known any more) and the slots its open attempts hold (what releases them; an attempt whose slot
 * is gone from Redis gets an empty ref, whose release is a no-op).
 */
export function stateOfRecord(
  r: CallRecord,
  plan: RoutePlan | null,
  slots: ReadonlyMap<string, SlotRef>,
): CallState {
  const attempts: Attempt[] = r.attempts.map((a) => ({
    ...a,
    slot: slots.get(a.legId) ?? {
      linkId: a.linkId,
      slotId: a.legId,
      buckets: { hour: '', day: '', month: '' },
      nodeId: r.nodeId,
    },
  }));
  return {
    callId: r.callId,
    callerChannelId: r.callerChannelId,
    nodeId: r.nodeId,
    app: r.app,
    did: r.did,
    callerNumber: r.callerNumber,
    startedAt: r.startedAt,
    plan,
    phase: r.phase,
    attempts,
    tried: [...new Set(attempts.map((a) => a.linkId))],
    preferClient: null,
    refused: [],
    maxAttempts: Math.max(r.maxAttempts, plan?.campaign?.maxAttempts ?? 1),
    legInStasis: false,
    ...(r.answeredAt ? { answeredAt: r.answeredAt } : {}),
    ...(r.callerAnsweredAt ? { callerAnsweredAt: r.callerAnsweredAt } : {}),
    ...(r.defaultRoute ? { defaultRoute: r.defaultRoute } : {}),
    ...(r.handedOffAt ? { handedOffAt: r.handedOffAt } : {}),
    ...(r.homeCampaignId ? { homeCampaignId: r.homeCampaignId } : {}),
    ...(r.reroutes ? { reroutes: r.reroutes } : {}),
    ...(r.phase === 'queued' ? { queued: true } : {}),
  };
}
