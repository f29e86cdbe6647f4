// Channels a resync finds in our app that no call holds (reconcile.ts acts on them). Pure: the
// listing, the calls this instance holds or ended lately, and the records of the node's calls in.
import type { AriChannel } from '../asterisk/types.ts';
import type { CallRecord } from './call-record.ts';
import { CALL_ID_VAR, OWNER_VAR } from './channel-vars.ts';
import type { CallRunner } from './effects.ts';

/**
 * Channels in our app that no call holds, once the calls of a dead owner are taken over: what an
 * event lost with the link (or sent to a process killed a moment before) leaves behind.
 * - A caller in `Stasis(<our app>,inbound)` that no call, record or recent end knows: its StasisStart
 *   never arrived. Its call starts now (a StasisStart arriving later finds it known).
 * - A client leg of a call this instance ended, or of an attempt that ended, before the listing: its
 *   hangup was lost, or the answer to the create that made it was (we chose its id, so it carries
 *   the call's tags). Hung up until Asterisk answers; its slot went back with its attempt.
 */
export function strayChannels(
  r: {
    apps: readonly string[];
    runner: Pick<CallRunner, 'calls' | 'byChannel' | 'endedHere' | 'callerEnded'>;
  },
  channels: AriChannel[],
  listedAt: number,
  records: Map<string, CallRecord>,
): { callers: Array<{ ch: AriChannel; app: string; args: string[] }>; legs: AriChannel[] } {
  const recorded = new Set([...records.values()].map((x) => x.callerChannelId));
  const callers: Array<{ ch: AriChannel; app: string; args: string[] }> = [];
  const legs: AriChannel[] = [];
  for (const ch of channels) {
    const v = ch.channelvars ?? {};
    const callId = v[CALL_ID_VAR];
    if (callId && r.apps.includes(v[OWNER_VAR] ?? '')) {
      const a = r.runner.calls.get(callId)?.state.attempts.find((x) => x.legId === ch.id);
      // Ended before the listing was asked for: a leg being hung up as it was listed is left alone.
      const ended = a?.endedAt ?? r.runner.endedHere(callId);
      if (ended !== undefined && ended < listedAt) legs.push(ch);
      continue;
    }
    const at = stasisOf(ch);
    if (at?.args[0] !== 'inbound' || !r.apps.includes(at.app)) continue;
    if (r.runner.byChannel.has(ch.id) || r.runner.callerEnded(ch.id) || recorded.has(ch.id)) continue;
    callers.push({ ch, ...at });
  }
  return { callers, legs };
}

/**
 * The Stasis app and arguments a listed channel sits in (`Stasis(capconduit,inbound)`: Asterisk
 * shows the running application and its data on the channel); null when it is in no Stasis app.
 */
export function stasisOf(ch: AriChannel): { app: string; args: string[] } | null {
  if (ch.dialplan?.app_name !== 'Stasis') return null;
  const [app, ...args] = (ch.dialplan.app_data ?? '').split(',');
  return app ? { app, args } : null;
}
