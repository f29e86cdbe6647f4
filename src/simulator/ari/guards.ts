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

/**
 * json_to_ast_variables: each value a string, or an object with a string `value` and an optional
 * boolean `report_events`; an empty name is skipped. The pairs in order, or Asterisk's 400.
 */
export function jsonVariables(vars: Record<string, unknown>): Array<[string, string]> | Reply {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(vars)) {
    if (!k) continue;
    if (typeof v === 'string') out.push([k, v]);
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const { value, report_events } = v as { value?: unknown; report_events?: unknown };
      if (typeof value !== 'string')
        return err(400, "Each object value in 'variables' must include string field 'value'");
      if (report_events !== undefined && typeof report_events !== 'boolean')
        return err(400, "Field 'report_events' in 'variables' entries must be boolean");
      out.push([k, value]);
    } else
      return err(
        400,
        "Each value in 'variables' must be a string or an object with 'value' and optional 'report_events'",
      );
  }
  return out;
}

/** The `variables` object of a body, checked (setChannelVars, setBridgeVars). */
export function bodyVariables(a: Args): Array<[string, string]> | Reply {
  const vars = a.body?.variables;
  if (!vars || typeof vars !== 'object' || Array.isArray(vars))
    return err(400, "The 'variables' field must be a JSON object");
  return jsonVariables(vars as Record<string, unknown>);
}
