// Number health from AMI (field names below as Asterisk sends them; our parser lowercases keys). Each outbound call that used one of our numbers counts as answered or
// not for that number, once per call whichever channel, event or daemon instance reports it:
//
// - `Hangup` (always sent, no extra Asterisk module): the channel's `CallerIDNum` (the calling
//   side, whose CALLERID(num) the dialer or our Stasis handler set) or `ConnectedLineNum` (the
//   dialled leg, whose connected line is the calling party) is our number; the call counts as
//   answered when the channel was `Up` (ChannelState 6) as it hung up. Calls are told apart by
//   `Linkedid` (shared by every channel of a call), so both legs and Local halves count once.
// - `Cdr` (needs cdr_manager.conf `enabled = yes`): `Source` is our number, `Disposition` ANSWERED
//   counts as answered; calls are told apart by `UniqueID`.
import type { AmiEvent } from '../asterisk/ami.ts';
import type { Logger } from '../platform/logger.ts';
import type { CallerIdService } from './service.ts';

export type HealthSource = 'hangup' | 'cdr';

export interface CallOutcome {
  callId: string;
  candidates: string[];
  answered: boolean;
}

/** E.164 of a caller number as Asterisk reports it (NANP 10/11 digits get +1), or null. */
export function e164Of(v: string | undefined): string | null {
  if (!v) return null;
  const d = v.replace(/[\s().-]/g, '');
  if (/^\+[1-9]\d{6,14}$/.test(d)) return d;
  if (/^1\d{10}$/.test(d)) return `+${d}`;
  if (/^\d{10}$/.test(d)) return `+1${d}`;
  return null;
}

/** The outcome an AMI event reports for the numbers it names, or null when it reports none (pure). */
export function outcomeOf(ev: AmiEvent, source: HealthSource): CallOutcome | null {
  const f = ev.fields;
  if (source === 'hangup' && ev.event === 'Hangup') {
    const callId = f.linkedid || f.uniqueid;
    if (!callId) return null;
    const candidates = [e164Of(f.calleridnum), e164Of(f.connectedlinenum)].filter((x): x is string => !!x);
    if (!candidates.length) return null;
    return { callId: `h:${callId}`, candidates, answered: f.channelstate === '6' };
  }
  if (source === 'cdr' && ev.event === 'Cdr') {
    const n = e164Of(f.source);
    if (!n || !f.uniqueid) return null;
    return { callId: `c:${f.uniqueid}`, candidates: [n], answered: f.disposition === 'ANSWERED' };
  }
  return null;
}

/**
 * Numbers recently found not to be ours, so the Hangups of other calls (every inbound call, each
 * of its channels) do not each cost a Redis round trip. Short-lived: a number imported meanwhile is
 * counted at most `ttlMs` late.
 */
export class NotOurs {
  private until = new Map<string, number>();
  constructor(
    private ttlMs = 60_000,
    private max = 100_000,
  ) {}
  has(n: string, now: number): boolean {
    const t = this.until.get(n);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(n);
    return false;
  }
  add(n: string, now: number): void {
    if (this.until.size >= this.max) this.until.clear();
    this.until.set(n, now + this.ttlMs);
  }
}

export class HealthTracker {
  private notOurs = new NotOurs();
  constructor(
    private service: CallerIdService,
    private source: HealthSource,
    private defaults: { window: number; minAnswerRate: number; restS: number },
    private log: Logger,
  ) {}

  /** Feeds one AMI event; resolves when it has been counted (or found not to be ours). */
  async onAmiEvent(ev: AmiEvent): Promise<void> {
    const o = outcomeOf(ev, this.source);
    if (!o) return;
    const now = this.service.now();
    const b = this.service.buckets(now);
    for (const n of o.candidates) {
      if (this.notOurs.has(n, now)) continue;
      const r = await this.service.store.recordOutcome(n, o.callId, o.answered, now, b, this.defaults);
      if (!r.ours) {
        this.notOurs.add(n, now);
        continue;
      }
      if (r.restedUntil)
        this.log.warn(
          { number: n, until: new Date(r.restedUntil).toISOString() },
          'caller ID rested: answer rate below the campaign threshold',
        );
      if (r.counted) return;
    }
  }
}
