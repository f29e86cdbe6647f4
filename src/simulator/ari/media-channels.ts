// A bridge's media channels, as resource_bridges.c makes them: a bridge plays through an
// announcer channel and records through a recorder channel (chan_bridge_media). Each is an unreal
// pair `Announcer/ARI-<8 hex>;1`/`;2` (or `Recorder/...`), both Up from the start, named from the
// same counter as Local channels; `;2` is imparted into the bridge (lonely and immovable) and `;1`
// runs the commands on its own control thread. Both are internal (AST_CHAN_TP_INTERNAL): Stasis's
// sanitizer keeps them out of every ARI event, channel list and bridge's channel list, and AMI
// reports nothing of them but the bridge's channel count. What shows is what they do: the
// playback and recording events (published on the bridge's topic, so to the bridge's apps), the
// bridge turning softmix with more than two channels, a lone party's connected line. One
// announcer serves every playback on the bridge while it has any queued and hangs up when its
// queue runs dry; each recording has a recorder of its own, which hangs up when it ends.
import type { SimBridge, SimChannel } from '../model.ts';
import { newUniqueId } from '../originate.ts';
import type { AriState } from './state.ts';

export type MediaKind = 'Announcer' | 'Recorder';

/** A media channel pair in the bridge; returns `;1`, the side the commands run on. */
export function mediaChannel(s: AriState, kind: MediaKind, b: SimBridge): SimChannel {
  const m = s.model;
  const base = m.nextName(`${kind}/ARI`);
  const one = m.create({ id: newUniqueId(), name: `${base};1`, state: 'Up', media: kind });
  one.linkedid = one.id;
  const two = m.create({ id: newUniqueId(), name: `${base};2`, state: 'Up', media: kind, linkedid: one.id });
  one.peer = two.id;
  two.peer = one.id;
  m.enterBridge(two, b);
  // Once its control queue is exhausted the control thread hangs `;1` up, and `;2` with it.
  s.media.queues.whenIdle(`channel:${one.id}`, () => m.hangup(one.id, 0, false, false));
  return one;
}

/**
 * The bridge's announcer still taking commands (stasis_app_bridge_playback_channel_find), or null
 * when a new one is needed.
 */
export function announcerOf(s: AriState, b: SimBridge): SimChannel | null {
  for (const id of b.channels) {
    const two = s.model.channels.get(id);
    if (two?.media !== 'Announcer' || !two.peer) continue;
    const one = s.model.channels.get(two.peer);
    if (one) return one;
  }
  return null;
}

/** A media channel made for a request that then failed: RAII's ast_hangup takes it out again. */
export function dropMediaChannel(s: AriState, one: SimChannel): void {
  s.media.queues.flush(`channel:${one.id}`);
  s.model.hangup(one.id, 0, false, false);
}
