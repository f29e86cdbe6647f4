// AMI's transfer actions, as manager.c's action_blind_transfer and action_atxfer answer them.
//
// BlindTransfer goes through main/bridge.c's ast_bridge_transfer_blind: a channel in no bridge,
// or alone in one, is an invalid transfer (`Transfer invalid`). A party of app_dial's two-party
// basic bridge is transferred: the other party (the transferee) goes to the place given and the
// transferer is removed from the bridge (`Transfer succeeded`); a party of a Stasis bridge is
// replaced by a Local channel to the place (the bridge's own transfer). Every attempt is published as a
// blind-transfer message (AMI BlindTransfer, ARI BridgeBlindTransfer to the apps subscribed to the
// transferer, the bridge or a channel in it) with its result. A channel in a bridge is first taken
// off hold (AMI Unhold, ARI ChannelUnhold), as the transfer does before it counts the bridge's
// parties.
//
// Atxfer queues the attended-transfer feature code and the extension as DTMF on the channel; with
// Asterisk's stock features.conf (no `atxfer` in [featuremap], the simulator's configuration) there
// is no code, so it answers `No attended transfer feature code found` once the channel is found.
import type { SimBridge, SimChannel, SimModel } from '../model.ts';
import { localPair } from '../originate.ts';
import { hashOrder, strHash } from './ao2.ts';
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
  replace?: Record<string, unknown>,
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
    ...(replace ? { replace_channel: replace } : {}),
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
    // A Stasis bridge transfers the bridge itself (AST_BRIDGE_FLAG_TRANSFER_BRIDGE_ONLY).
    if (!b.basic) return bridgeTransfer(ctx, c, b, context, exten);
    const peer = others.length === 1 ? m.channels.get(others[0]!) : undefined;
    if (!b.blindTransfer || !peer) return unmodelled(ctx);
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

/**
 * ast_bridge_peer: the other channel of a bridge of exactly two (media channels counted) whose
 * technology mixes one to one or natively; none otherwise.
 */
function bridgePeer(m: SimModel, c: SimChannel, b: SimBridge): SimChannel | undefined {
  if (b.channels.size !== 2 || b.technology === 'softmix' || b.technology === 'holding_bridge') return;
  const other = [...b.channels].find((id) => id !== c.id);
  return other ? m.channels.get(other) : undefined;
}

/**
 * blind_transfer_bridge, for a Stasis bridge: a Local channel to `exten@context` is requested by
 * the transferer (its Linkedid; its account codes passed straight on), BLINDTRANSFER set on `;1`,
 * `;1` called (`;2` runs the dialplan; no such extension fails the transfer) and imparted into the
 * bridge in the transferer's place. The message names `;1` as the replacement. Not in Stasis,
 * `;1` is first sent to the transferer's app (bridge_stasis_push: StasisStart with the
 * transferer's snapshot as `replace_channel`), then swapped in: the transferer leaves the bridge
 * (still in Stasis: the app decides what becomes of it) and `;1` enters.
 */
function bridgeTransfer(
  ctx: ActionContext,
  c: SimChannel,
  b: SimBridge,
  context: string,
  exten: string,
): void {
  const m = ctx.core.model;
  const transferee = bridgePeer(m, c, b);
  unhold(ctx, c);
  setTransferVariables(m, c, b, false);
  const { one, two } = localPair(m, { exten, context }, { linkedid: c.linkedid ?? c.id });
  if (c.accountcode) one.accountcode = c.accountcode;
  if (c.peeraccount) one.peeraccount = c.peeraccount;
  // The setters publish a finalised channel's snapshot at once (NewAccountCode when it changed).
  m.publish(one);
  const replace = m.json(one);
  m.setVar(one, 'BLINDTRANSFER', c.name);
  if (!m.callLocal(one, two)) {
    // ast_call fails (chan_local's local_call, after the pair's setup): `;1` is hung up.
    m.hangup(one.id, 0, false, false);
    error(ctx, 'Transfer failed');
    return publishBlindTransfer(ctx, c, 'Fail', context, exten, transferee, replace);
  }
  void m.runDialplan(two, context, exten, 1);
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Transfer succeeded'],
  ]);
  publishBlindTransfer(ctx, c, 'Success', context, exten, transferee, replace);
  const app = m.target(c);
  setImmediate(() => {
    if (!m.channels.has(one.id) || !app) return;
    m.enterStasis(one, app, [], true, m.json(c));
    if (!m.bridges.has(b.id) || c.bridge !== b.id) return;
    m.leaveBridge(c);
    m.enterBridge(one, b);
  });
}

export const atxfer: Action = (ctx) => {
  const name = ctx.f.channel ?? '';
  if (!name) return error(ctx, 'No channel specified');
  if (!ctx.f.exten) return error(ctx, 'No extension specified');
  if (!byName(ctx, name)) return error(ctx, 'Channel specified does not exist');
  // ast_get_builtin_feature(chan, "atxfer"): the stock featuremap has none.
  error(ctx, 'No attended transfer feature code found');
};
