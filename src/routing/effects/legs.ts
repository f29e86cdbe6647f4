// Performers of the effects on a call's channels and bridge: the client leg's create and dial, the
// caller's ringing, answer, bridge, recovery for the next client, hangups, the way back to the
// dialplan, a message, and the call's maximum length.
import { AriError } from '../../asterisk/index.ts';
import { CALL_ID_VAR, CALLER_VAR, OWNER_VAR } from '../channel-vars.ts';
import type { CallEvent } from '../call.ts';
import { dialString } from '../catalog.ts';
import { noAnswer } from '../cleanup.ts';
import { ariOf, type CallRuntime, type EffectContext, type EffectOf, isGoneOrElsewhere } from './runtime.ts';

// The tags a client leg is created with (channel-vars.ts); their names stay importable from here.
export { CALL_ID_VAR, CALLER_VAR, OWNER_VAR } from '../channel-vars.ts';

/** The dialplan function whose `absolute` timeout makes Asterisk hang a channel up by itself. */
export const ABSOLUTE_TIMEOUT = 'TIMEOUT(absolute)';

export type LegEffect = EffectOf<
  | 'create_leg'
  | 'dial'
  | 'hangup'
  | 'answer_caller'
  | 'bridge'
  | 'continue_dialplan'
  | 'follow_caller'
  | 'play_message'
  | 'ring_caller'
  | 'recover_caller'
  | 'limit_length'
>;

export async function performLeg(
  ctx: EffectContext,
  call: CallRuntime,
  fx: LegEffect,
): Promise<CallEvent | null> {
  const s = call.state;
  const callId = s.callId;
  switch (fx.type) {
    case 'create_leg': {
      // Before the REST call: the leg's events may beat the response.
      ctx.byChannel.set(fx.legId, callId);
      await ariOf(ctx, call).channels.create({
        endpoint: dialString(fx.endpoint),
        app: s.app,
        channelId: fx.legId,
        appArgs: `leg,${callId}`,
        variables: { [CALL_ID_VAR]: callId, [OWNER_VAR]: s.app, [CALLER_VAR]: s.callerChannelId },
      });
      return null;
    }
    case 'dial': {
      ctx.d.metrics.decision.observe((ctx.d.now() - s.startedAt) / 1000);
      clearTimeout(call.ringTimer);
      call.ringTimer = setTimeout(
        () => ctx.feedChannel(fx.legId, { type: 'ring_timeout', legId: fx.legId, at: ctx.d.now() }),
        fx.timeoutS * 1000,
      );
      call.ringTimer.unref();
      const ari = ariOf(ctx, call);
      try {
        await ari.channels.dial(fx.legId, { timeout: fx.timeoutS, caller: s.callerChannelId });
      } catch (err) {
        ctx.d.log.warn({ callId, err: (err as Error).message }, 'dial failed');
        // Its ChannelDestroyed ends the attempt (and frees the slot) as any leg's end does.
        await ctx.cleanup.hangup(s.nodeId, fx.legId, 'congestion');
      }
      return null;
    }
    case 'hangup':
      if (fx.channelId !== s.callerChannelId) clearTimeout(call.ringTimer);
      // On the cleanup lane, and tried until Asterisk confirms it: a shed caller's hangup must
      // not wait behind the backlog that made us shed, and no channel is left up when it fails.
      await ctx.cleanup.hangup(s.nodeId, fx.channelId, fx.reason);
      return null;
    case 'answer_caller':
      clearTimeout(call.ringTimer);
      await ariOf(ctx, call)
        .channels.answer(s.callerChannelId)
        .catch((e: unknown) => {
          if (!isGoneOrElsewhere(e)) throw e;
        });
      return null;
    case 'bridge': {
      const ari = ariOf(ctx, call);
      // A caller sent on by revenue recovery or out of the hold queue hears Asterisk's ring tone
      // until now (answered: the tone is in-band).
      if (s.reroutes || s.queued) await ari.channels.ringStop(s.callerChannelId).catch(() => {});
      try {
        await ari.bridges.create({ bridgeId: callId, type: 'mixing' });
        await ari.bridges.addChannel(callId, [s.callerChannelId, fx.legId]);
      } catch (err) {
        // Either party may hang up before the bridge is made (Asterisk answers 400 for a channel
        // that no longer exists); its ChannelDestroyed is queued behind us and ends the call. Any
        // other failure leaves two answered parties apart: hang both up rather than leave them.
        if (err instanceof AriError && [400, 404, 409, 422].includes(err.status)) return null;
        // No answer (the link cut, the WebSocket closed): Asterisk may have bridged them all the
        // same, and then a call in progress would be hung up for a lost answer. Asked first.
        if (noAnswer(err)) {
          const bridged = await bridgedAfterAll(ari, callId, [s.callerChannelId, fx.legId]);
          ctx.d.metrics.bridgeAnswersLost.inc({ bridged: String(bridged) });
          if (bridged) {
            ctx.d.log.warn({ callId }, 'the bridge request got no answer, but Asterisk had bridged the call');
            return null;
          }
        }
        ctx.d.log.error({ callId, err: (err as Error).message }, 'bridge failed; hanging up the call');
        // A create with no answer may have made the bridge: destroyed once Asterisk answers.
        if (noAnswer(err)) void ctx.cleanup.destroyBridge(s.nodeId, callId, { ordered: true });
        await ctx.hangupSurely(s.nodeId, fx.legId, 'normal');
        await ctx.hangupSurely(s.nodeId, s.callerChannelId, 'normal');
      }
      return null;
    }
    case 'follow_caller':
      // The caller's hangup in the dialplan ends the call: its channel's events, out of our app.
      await ariOf(ctx, call).applications.subscribe(s.app, `channel:${s.callerChannelId}`);
      return null;
    case 'continue_dialplan': {
      // Followed before it leaves: its hangup there is then heard (ChannelDestroyed).
      const ari = ariOf(ctx, call);
      try {
        await ari.applications.subscribe(s.app, `channel:${s.callerChannelId}`);
        await ari.channels.continueInDialplan(s.callerChannelId, {
          context: fx.context,
          extension: fx.extension,
          priority: fx.priority,
        });
      } catch (err) {
        // Hung up before it could be sent on (its StasisEnd, already heard, did not end the call,
        // and a channel of the dialplan's own has no ChannelDestroyed in the app): it ends now.
        if (isGoneOrElsewhere(err)) return { type: 'caller_gone', cause: 16, at: ctx.d.now() };
        throw err;
      }
      return null;
    }
    case 'play_message': {
      // Answered first (a message to an unanswered caller is early media at best); the
      // playback's PlaybackFinished (stasis.ts) says when to hang up.
      const ari = ariOf(ctx, call);
      await ari.channels.answer(s.callerChannelId);
      await ari.channels.play(s.callerChannelId, `${callId}-message`, fx.media);
      return null;
    }
    case 'ring_caller': {
      // Not waited for: the routing decision goes on meanwhile (see runEffects for the order).
      const ringing: Promise<void> = ariOf(ctx, call)
        .channels.ring(s.callerChannelId)
        .catch((err: unknown) => {
          if (isGoneOrElsewhere(err)) return;
          ctx.d.metrics.effectFailures.inc({ effect: 'ring_caller' });
          ctx.d.log.warn({ callId, err: (err as Error).message }, 'caller not rung');
        })
        .finally(() => {
          if (call.ringing === ringing) call.ringing = undefined;
        });
      call.ringing = ringing;
      return null;
    }
    case 'recover_caller': {
      // Out of the bridge (it is made again for the next client), then ringback: the caller, still
      // answered, hears ringing (Asterisk plays the indication's tone in-band on an answered channel).
      const ari = ariOf(ctx, call);
      await ari.bridges.destroy(callId).catch((e: unknown) => {
        if (!isGoneOrElsewhere(e)) throw e;
      });
      await ari.channels.ring(s.callerChannelId).catch((e: unknown) => {
        if (!isGoneOrElsewhere(e)) throw e;
      });
      return null;
    }
    case 'limit_length': {
      const ari = ariOf(ctx, call);
      // One request per channel: Asterisk hangs each up by itself when its time comes.
      // A channel gone meanwhile needs no limit (its call is ending); other failures fall back below.
      await Promise.all(
        fx.channels.map((id) =>
          ari.channels.setVariable(id, ABSOLUTE_TIMEOUT, String(fx.seconds)).catch((e: unknown) => {
            if (!isGoneOrElsewhere(e)) throw e;
          }),
        ),
      );
      return null;
    }
  }
}

const BRIDGE_ASK_TRIES = 8;
const BRIDGE_ASK_FIRST_PAUSE_MS = 250;

/**
 * Whether Asterisk holds the bridge with every one of `channels` in it, asked after a bridge request
 * whose answer was lost. The question goes the same way as the request (the events WebSocket, served
 * in order), so it is answered after the request was done or dropped; while the link is down it is
 * asked again with growing pauses (about a minute in all, within which the link is normally back).
 * False when Asterisk says no, or never answers: the caller then hangs both parties up as before.
 */
async function bridgedAfterAll(
  ari: ReturnType<typeof ariOf>,
  bridgeId: string,
  channels: string[],
): Promise<boolean> {
  for (let i = 0; i < BRIDGE_ASK_TRIES; i++) {
    try {
      const b = await ari.bridges.get(bridgeId);
      return channels.every((c) => b.channels?.includes(c));
    } catch (err) {
      if (err instanceof AriError) return false; // 404: no such bridge; anything else: not ours to guess
      if (i + 1 < BRIDGE_ASK_TRIES)
        await new Promise((r) => setTimeout(r, BRIDGE_ASK_FIRST_PAUSE_MS * 2 ** i).unref());
    }
  }
  return false;
}
