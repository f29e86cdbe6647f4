// AMI's transfer actions, as manager.c's action_blind_transfer and action_atxfer answer them.
//
// BlindTransfer goes through main/bridge.c's ast_bridge_transfer_blind: a channel in no bridge,
// or alone in one, is an invalid transfer (`Transfer invalid`), and every attempt is published as
// a blind-transfer message (AMI BlindTransfer, ARI BridgeBlindTransfer to the apps subscribed to the
// transferer) with its result. A channel alone in a bridge is first taken off hold (AMI Unhold, ARI
// ChannelUnhold), as the transfer does before it counts the bridge's parties. Transferring a channel
// that has someone to be transferred is not modelled: it answers the simulator's not-modelled error.
//
// Atxfer queues the attended-transfer feature code and the extension as DTMF on the channel; with
// Asterisk's stock features.conf (no `atxfer` in [featuremap], the simulator's configuration) there
// is no code, so it answers `No attended transfer feature code found` once the channel is found.
import type { SimChannel } from '../model.ts';
import { error } from './auth.ts';
import { unmodelled } from './commands.ts';
import { bridgeFields, type Fields, prefixed, snapshot } from './protocol.ts';
import { type Action, type ActionContext, byName } from './session.ts';

/** ast_bridge_transfer_blind's results as the message prints them (result_strs). */
type TransferResult = 'Fail' | 'Invalid' | 'Not Permitted' | 'Success';

/** The blind-transfer message: AMI BlindTransfer and ARI BridgeBlindTransfer. */
function publishBlindTransfer(
  ctx: ActionContext,
  c: SimChannel,
  result: TransferResult,
  context: string,
  exten: string,
): void {
  const m = ctx.core.model;
  const b = c.bridge ? m.bridges.get(c.bridge) : undefined;
  const fields: Fields = [
    ['Event', 'BlindTransfer'],
    ['Privilege', 'call,all'],
    ['Result', result],
    ...prefixed('Transferer', snapshot(c)),
    ...(b ? bridgeFields(b, b.channels.size) : []),
    ['IsExternal', 'Yes'],
    ['Context', context],
    ['Extension', exten],
  ];
  ctx.event(fields);
  m.event(m.target(c), 'BridgeBlindTransfer', () => ({
    channel: m.json(c),
    exten,
    context,
    result,
    is_external: true,
    ...(b ? { bridge: m.bridgeJson2(b) } : {}),
  }));
}

export const blindTransfer: Action = (ctx) => {
  const name = ctx.f.channel ?? '';
  const exten = ctx.f.exten ?? '';
  if (!name) return error(ctx, 'No channel specified');
  if (!exten) return error(ctx, 'No extension specified');
  const c = byName(ctx, name);
  if (!c) return error(ctx, 'Channel specified does not exist');
  const context = ctx.f.context || c.dialplan.context;
  const m = ctx.core.model;
  const b = c.bridge ? m.bridges.get(c.bridge) : undefined;
  // A bridge's media channels (announcer, recorder) are no party to transfer.
  const others = b ? [...b.channels].filter((id) => id !== c.id && !m.channels.get(id)?.media) : [];
  if (b && others.length) return unmodelled(ctx);
  // The answer is written at once; what the transfer published reaches the sessions through
  // Stasis after it, in the order published.
  error(ctx, 'Transfer invalid');
  if (b) {
    // ast_bridge_channel_write_unhold, before the parties are counted.
    ctx.channelEvent('Unhold', c);
    m.event(m.target(c), 'ChannelUnhold', () => ({ channel: m.json(c) }));
  }
  publishBlindTransfer(ctx, c, 'Invalid', context, exten);
};

export const atxfer: Action = (ctx) => {
  const name = ctx.f.channel ?? '';
  if (!name) return error(ctx, 'No channel specified');
  if (!ctx.f.exten) return error(ctx, 'No extension specified');
  if (!byName(ctx, name)) return error(ctx, 'Channel specified does not exist');
  // ast_get_builtin_feature(chan, "atxfer"): the stock featuremap has none.
  error(ctx, 'No attended transfer feature code found');
};
