// The lookups every channel and bridge operation starts with, answering as Asterisk's
// find_control / find_bridge do when the object is missing or not the app's.
import type { SimBridge, SimChannel } from '../model.ts';
import { type Args, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

type H = Handler<AriState>;
type ChannelFn = (c: SimChannel, a: Args, s: AriState) => Reply | Promise<Reply>;

/** The channel named by the path, or 404 (`Channel not found` unless told otherwise). */
export const withChannel =
  (f: ChannelFn, missing = 'Channel not found'): H =>
  (a, s) => {
    const c = s.model.channels.get(a.channelId as string);
    return c ? f(c, a, s) : err(404, missing);
  };

/** find_control: 404 for no channel, 409 for a channel not in a Stasis application. */
export const inStasis = (f: ChannelFn): H =>
  withChannel((c, a, s) => (c.app ? f(c, a, s) : err(409, 'Channel not in Stasis application')));

/**
 * find_control then channel_state_invalid: 412 for an outgoing channel not answered yet (Down,
 * Ringing); an incoming one (Ring) is valid. Most channel operations start with both.
 */
export const answered = (f: ChannelFn): H =>
  inStasis((c, a, s) =>
    c.state === 'Down' || c.state === 'Ringing' ? err(412, 'Channel in invalid state') : f(c, a, s),
  );

/** The bridge named by the path, or 404 `Bridge not found`. */
export const withBridge =
  (f: (b: SimBridge, a: Args, s: AriState) => Reply | Promise<Reply>): H =>
  (a, s) => {
    const b = s.model.bridges.get(a.bridgeId as string);
    return b ? f(b, a, s) : err(404, 'Bridge not found');
  };

export const noContent: Reply = { status: 204 };
