// Thin Stasis handlers: ARI events of our app become CallEvents for the call they belong to.
// Nothing here decides anything; the call state machine does (call.ts), the runner acts (effects.ts).
import { randomUUID } from 'node:crypto';
import type { AsteriskModule } from '../asterisk/index.ts';
import { AriError } from '../asterisk/index.ts';
import type { AnyAriEvent, AriChannel } from '../asterisk/types.ts';
import type { Logger } from '../platform/logger.ts';
import { causeOfDialStatus, newCall } from './call.ts';
import { CALL_ID_VAR, type CallRunner } from './effects.ts';

/**
 * The ARI event types the router acts on (the node filters out the rest; StasisStart comes apart).
 * `Dial` is needed although most of its frames ("", RINGING, ANSWER) say nothing new: a client
 * reached through a Local/ dial string whose far side is busy or congested keeps its leg up, and
 * Asterisk reports that only as Dial BUSY/CONGESTION (Asterisk's filters cannot pick by status).
 */
export const ROUTER_EVENTS = [
  'CallBroadcast',
  'ChannelStateChange',
  'Dial',
  'ChannelDestroyed',
  'StasisEnd',
  // the default route's message ended (its playback is on the caller's channel)
  'PlaybackFinished',
  // a call's recording ended: its length goes on the CDR
  'RecordingFinished',
  'RecordingFailed',
] as const;

/** DID from a StasisStart: an explicit arg wins (calls handed over with `move`), else the dialplan exten. */
export function didOf(ch: AriChannel, args: string[]): string {
  return normalizeDid(args[1] ?? ch.dialplan?.exten ?? '');
}

/** A dialled number as DIDs are stored: E.164 with its `+` (10 digits: NANP without country code). */
export function normalizeDid(raw: string): string {
  const digits = raw.trim().replace(/[^\d+]/g, '');
  if (/^\+\d{8,15}$/.test(digits)) return digits;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  if (/^\d{10}$/.test(digits)) return `+1${digits}`; // NANP without country code, as US carriers send
  return digits.startsWith('+') || !digits ? digits : `+${digits}`;
}

/**
 * A caller entered our app: its call starts (once: a caller already known is left alone). Also how
 * a caller found in our app at a resync whose StasisStart never arrived (lost with the link, or sent
 * to a process killed a moment before) is taken in hand (reconcile.ts).
 */
export function startInbound(
  runner: CallRunner,
  nodeId: string,
  ch: AriChannel,
  app: string,
  args: string[],
  now: () => number,
): void {
  if (runner.byChannel.has(ch.id)) return;
  // The caller is not tagged with our call id (that would cost a REST request per call on the
  // hot path): client legs carry it from creation (channel variables), and the bridge that joins
  // the caller to a client is named by it, which is all a restarted instance needs.
  const shed = runner.shedNow(nodeId);
  const { state, effects } = newCall(
    {
      callId: ch.channelvars?.[CALL_ID_VAR] || randomUUID(),
      callerChannelId: ch.id,
      nodeId,
      app,
      did: didOf(ch, args),
      callerNumber: ch.caller?.number ?? '',
      startedAt: now(),
    },
    { shed },
  );
  runner.start(state, effects);
}

/**
 * Hands our app's events to the calls. `deafen()`: from then on none is acted on (the daemon
 * stopping, its calls drained and about to be left to another instance: a caller that instance moves
 * into its own app leaves ours with a StasisEnd, which is not its hangup).
 */
export function attachStasisHandlers(
  asterisk: AsteriskModule,
  runner: CallRunner,
  log: Logger,
  now: () => number,
): { deafen(): void } {
  let deaf = false;
  asterisk.onStasisStart('inbound', (nodeId, ev) => {
    if (!deaf) startInbound(runner, nodeId, ev.channel, ev.application, ev.args ?? [], now);
  });
  asterisk.onStasisStart('leg', (nodeId, ev) => {
    if (!deaf) runner.legEntered(nodeId, ev.channel.id, now());
  });
  asterisk.onAriEvent(
    (nodeId, ev) => {
      if (!deaf) onEvent(nodeId, ev);
    },
    [...ROUTER_EVENTS],
  );

  function onEvent(nodeId: string, ev: AnyAriEvent): void {
    const at = now();
    switch (ev.type) {
      case 'CallBroadcast': {
        // StasisBroadcast offer: claim it for the app it was offered to; losing the race (409) is normal.
        const ch = (ev as { channel: AriChannel }).channel;
        void asterisk.nodes
          .get(nodeId)
          ?.ari.events.claim(ch.id, ev.application)
          .catch((err: unknown) => {
            if (!(err instanceof AriError) || err.status !== 409)
              log.warn({ err: (err as Error).message }, 'claim failed');
          });
        return;
      }
      case 'ChannelStateChange': {
        const ch = (ev as { channel: AriChannel }).channel;
        const callId = runner.byChannel.get(ch.id);
        if (ch.state !== 'Up' || !callId) return;
        if (runner.calls.get(callId)?.state.callerChannelId !== ch.id)
          runner.feedChannel(ch.id, { type: 'leg_answered', legId: ch.id, at });
        // The caller answered by the dialplan it was sent on to (a default route's context).
        else runner.feedChannel(ch.id, { type: 'caller_up', at });
        return;
      }
      case 'Dial': {
        const { peer, dialstatus } = ev as { peer?: AriChannel; dialstatus?: string };
        const cause = causeOfDialStatus(dialstatus ?? '');
        if (peer && cause !== null)
          runner.feedChannel(peer.id, { type: 'leg_failed', legId: peer.id, cause, at });
        return;
      }
      case 'PlaybackFinished': {
        const target = (ev as { playback?: { target_uri?: string } }).playback?.target_uri ?? '';
        if (target.startsWith('channel:'))
          runner.feedChannel(target.slice('channel:'.length), { type: 'message_done', at });
        return;
      }
      case 'RecordingFinished':
      case 'RecordingFailed': {
        const r = (ev as { recording?: { name?: string; duration?: number } }).recording;
        if (r?.name)
          runner.recordingEnded(r.name, ev.type === 'RecordingFinished' ? (r.duration ?? 0) : null);
        return;
      }
      case 'ChannelDestroyed':
      case 'StasisEnd': {
        const ch = (ev as { channel: AriChannel }).channel;
        const cause = (ev as { cause?: number }).cause ?? 16;
        if (ev.type === 'ChannelDestroyed') runner.channelGone(ch.id);
        const callId = runner.byChannel.get(ch.id);
        if (!callId) return;
        if (runner.calls.get(callId)?.state.callerChannelId === ch.id)
          runner.feedChannel(ch.id, {
            type: 'caller_gone',
            cause,
            at,
            ...(ev.type === 'StasisEnd' ? { left: true } : {}),
          });
        else if (ev.type === 'ChannelDestroyed')
          runner.feedChannel(ch.id, { type: 'leg_gone', legId: ch.id, cause, at });
        return;
      }
    }
  }
  return {
    deafen: () => {
      deaf = true;
    },
  };
}
