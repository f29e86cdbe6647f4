// AMI's transfer actions, as manager.c's action_blind_transfer and action_atxfer answer them.
//
// BlindTransfer goes through main/bridge.c's ast_bridge_transfer_blind: a channel in no bridge,
// or alone in one, is an invalid transfer (`Transfer invalid`). A party of app_dial's two-party
// basic bridge is transferred: the other party (the transferee) goes to the place given and the
// transferer is removed from the bridge (`Transfer succeeded`). Every attempt is published as a
// blind-transfer message (AMI BlindTransfer, ARI BridgeBlindTransfer to the apps subscribed to the
// transferer, the bridge or a channel in it) with its result. A channel in a bridge is first taken
// off hold (AMI Unhold, ARI ChannelUnhold), as the transfer does before it counts the bridge's
// parties. Transferring out of another bridge (a Stasis bridge) is not modelled: it answers the
// simulator's not-modelled error.
//
// Atxfer queues the attended-transfer feature code and the extension as DTMF on the channel; with
// Asterisk's stock features.conf (no `atxfer` in [featuremap], the simulator's configuration) there
// is no code, so it answers `No attended transfer feature code found` once the channel is found.
import type { SimBridge, SimChannel, SimModel } from '../model.ts';
import { strHash, hashOrder } from './ao2.ts';
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
  transferee?: SimChannel,
): void {
  const m = ctx.core.model;
  const b = c.bridge ? m.bridges.get(c.bridge) : undefined;
  // Transferer, transferee, then the bridge (blind_transfer_to_ami).
  const fields: Fields = [
    ['Event', 'BlindTransfer'],
    ['Privilege', 'call,all'],
    ['Result', result],
    ...prefixed('Transferer', snapshot(c)),
    ...(transferee ? prefixed('Transferee', snapshot(transferee)) : []),
    ...(b ? bridgeFields(b, b.channels.size) : []),
    ['IsExternal', 'Yes'],
    ['Context', context],
    ['Extension', exten],
  ];
  ctx.event(fields);
  // res/stasis/app.c: the apps subscribed to the transferer, the bridge or a channel in it.
  const hearers = new Set<string>();
  for (const x of [c, ...(b ? [...b.channels].map((id) => m.channels.get(id)) : [])]) {
    const app = x ? m.target(x) : null;
    if (app) hearers.add(app);
  }
  if (b) for (const app of m.bridgeApps(b)) hearers.add(app);
  m.event([...hearers], 'BridgeBlindTransfer', () => ({
    channel: m.json(c),
    exten,
    context,
    result,
    is_external: true,
    ...(transferee ? { transferee: m.json(transferee) } : {}),
    ...(b ? { bridge: m.bridgeJson2(b) } : {}),
  }));
}

/** ast_bridge_channel_write_unhold: AMI Unhold and ARI ChannelUnhold for the transferer. */
function unhold(ctx: ActionContext, c: SimChannel): void {
  const m = ctx.core.model;
  ctx.channelEvent('Unhold', c);
  m.event(m.target(c), 'ChannelUnhold', () => ({ channel: m.json(c) }));
}

/**
 * set_transfer_variables_all: BLINDTRANSFER on every channel of the bridge (the transferer gets its
 * BRIDGEPEER, the others the transferer's name) and ATTENDEDTRANSFER unset, in the order of
 * ast_bridge_peers' hash container (13 buckets by channel name).
 */
export function setTransferVariables(m: SimModel, c: SimChannel, b: SimBridge, attended: boolean): void {
  const [write, erase] = attended
    ? ['ATTENDEDTRANSFER', 'BLINDTRANSFER']
    : ['BLINDTRANSFER', 'ATTENDEDTRANSFER'];
  const peer = c.vars.get('BRIDGEPEER') ?? '';
  const parties = [...b.channels].map((id) => m.channels.get(id)).filter((x): x is SimChannel => !!x);
  for (const x of hashOrder(parties, (p) => strHash(p.name), 13)) {
    m.setVar(x, write, x === c ? peer : c.name);
    m.setVar(x, erase, null);
  }
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
  if (b && others.length) {
    const peer = others.length === 1 ? m.channels.get(others[0]!) : undefined;
    if (!b.basic || !b.blindTransfer || !peer) return unmodelled(ctx);
    // The two-party path: the transferee's transfer is queued, the transferer removed; the
    // message is published before either has left (each leaves on its own thread).
    ctx.reply([
      ['Response', 'Success'],
      ['Message', 'Transfer succeeded'],
    ]);
    unhold(ctx, c);
    setTransferVariables(m, c, b, false);
    publishBlindTransfer(ctx, c, 'Success', context, exten, peer);
    const go = b.blindTransfer;
    setImmediate(() => go(c, context, exten));
    return;
  }
  // The answer is written at once; what the transfer published reaches the sessions through
  // Stasis after it, in the order published.
  error(ctx, 'Transfer invalid');
  if (b) unhold(ctx, c);
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
