// AMI's calls placed and moved: Originate and Redirect, as manager.c's action_originate and
// action_redirect check and run them.
import { type After, newUniqueId, originate as originateCall, parseCallerId } from '../originate.ts';
import type { SimChannel } from '../model.ts';
import { error } from './auth.ts';
import type { Fields } from './protocol.ts';
import { type Action, type ActionContext, byName } from './session.ts';

/** sscanf("%30d"): leading blanks, a sign and digits; null when there is no number. */
const scanInt = (v: string): number | null => {
  const m = /^\s*([-+]?\d+)/.exec(v);
  return m ? Number.parseInt(m[1]!, 10) : null;
};

/**
 * A channel sent elsewhere in the dialplan (async_goto_with_discard_bridge_after): it leaves its
 * bridge and Stasis (StasisEnd) and its PBX goes on at the place given.
 */
function redirectTo(
  ctx: ActionContext,
  c: SimChannel,
  context: string,
  exten: string,
  priority: number,
): void {
  const m = ctx.core.model;
  if (c.bridge) m.leaveBridge(c);
  m.leaveStasis(c);
  c.dialplan = { ...c.dialplan, context, exten };
  void m.runDialplan(c, context, exten, priority);
  m.fire(c.id, 'exit');
}

/** A priority as manager.c reads one: a number, else a label of the extension (< 1: none). */
const priorityOf = (ctx: ActionContext, context: string, exten: string, p: string) =>
  scanInt(p) ?? ctx.core.model.findLabel(context, exten, p);

/**
 * Redirect (manager.c action_redirect): the checks in its order — Channel, Context, Exten,
 * Priority (a number or a label), then with ExtraChannel and ExtraContext the Extra place — then
 * the channels; with ExtraChannel both go (the second to the Extra place, or to the same one
 * without ExtraContext): `Dual Redirect successful`.
 */
export const redirect: Action = (ctx) => {
  const { f } = ctx;
  const name = f.channel ?? '';
  const name2 = f.extrachannel ?? '';
  const context = f.context ?? '';
  const exten = f.exten ?? '';
  const context2 = f.extracontext ?? '';
  const exten2 = f.extraexten ?? '';
  if (!name) return error(ctx, 'Channel not specified');
  if (!context) return error(ctx, 'Context not specified');
  if (!exten) return error(ctx, 'Exten not specified');
  if (!f.priority) return error(ctx, 'Priority not specified');
  const pi = priorityOf(ctx, context, exten, f.priority);
  if (pi < 1) return error(ctx, 'Priority is invalid');
  let pi2 = 0;
  if (name2 && context2) {
    if (!exten2) return error(ctx, 'ExtraExten not specified');
    if (!f.extrapriority) return error(ctx, 'ExtraPriority not specified');
    pi2 = priorityOf(ctx, context2, exten2, f.extrapriority);
    if (pi2 < 1) return error(ctx, 'ExtraPriority is invalid');
  }
  const c = byName(ctx, name);
  if (!c) return error(ctx, `Channel does not exist: ${name}`);
  if (!name2) {
    redirectTo(ctx, c, context, exten, pi);
    return ctx.reply([
      ['Response', 'Success'],
      ['Message', 'Redirect successful'],
    ]);
  }
  const c2 = byName(ctx, name2);
  if (!c2) return error(ctx, `ExtraChannel does not exist: ${name2}`);
  redirectTo(ctx, c, context, exten, pi);
  if (context2) redirectTo(ctx, c2, context2, exten2, pi2);
  else redirectTo(ctx, c2, context, exten, pi);
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Dual Redirect successful'],
  ]);
};

/** The formats Asterisk's format cache knows by name (codec_builtin.c), matched without case. */
const FORMATS = new Set(
  (
    'codec2 g723 ulaw alaw gsm g726 g726aal2 adpcm slin slin12 slin16 slin24 slin32 slin44 slin48 ' +
    'slin96 slin192 lpc10 g729 speex speex16 speex32 ilbc g722 siren7 siren14 g719 opus jpeg png ' +
    'h261 h263 h263p h264 h265 mpeg4 vp8 vp9 red t140 t38 none silk8 silk12 silk16 silk24'
  ).split(' '),
);

/**
 * The formats an Originate's `Codecs` leaves to request, as action_originate builds them: the
 * default (slin) removed, then ast_format_cap_update_by_allow_disallow allowing each name of the
 * list (`,` or `|` separated, `!name` removing, `all` every format, `name:ms` a packetization that
 * must be a number). A name the cache does not know is skipped with a warning, not refused: the
 * originate goes on with what is left, and fails only when nothing is.
 */
export function originateFormats(codecs: string): Set<string> {
  const out = new Set<string>();
  let list = codecs;
  if (list.startsWith('(') && list.endsWith(')')) list = list.slice(1, -1);
  for (const raw of list.split(/[,|]/)) {
    let name = raw.trim();
    let allow = true;
    if (name.startsWith('!')) {
      name = name.slice(1);
      allow = false;
    }
    const colon = name.lastIndexOf(':');
    if (colon >= 0) {
      // sscanf("%30d"): no number is refused, but an empty rest is EOF, which passes the check.
      const rest = name.slice(colon + 1);
      const ms = /^\s*[-+]?\d+/.exec(rest);
      if (rest.trim() !== '' && (!ms || Number(ms[0]) < 0)) continue;
      name = name.slice(0, colon);
    }
    const key = name.toLowerCase();
    if (key === 'all') {
      if (allow) for (const f of FORMATS) out.add(f);
      else out.clear();
    } else if (FORMATS.has(key)) {
      if (allow) out.add(key);
      else out.delete(key);
    }
  }
  return out;
}

/**
 * The `Variable` headers as astman_get_variables reads them: each header's value split at commas
 * (AST_STANDARD_APP_ARGS), each `name=value` with a name; the list is built by prepending, so the
 * channel is given them last first.
 */
export function originateVariables(headers: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const h of headers) {
    for (const item of splitArgs(h.trimStart())) {
      const eq = item.indexOf('=');
      if (eq <= 0) continue;
      out.unshift([item.slice(0, eq), item.slice(eq + 1)]);
    }
  }
  return out;
}

/** Comma-separated arguments, commas inside quotes or parentheses kept (ast_app_separate_args). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')' && depth > 0) depth--;
    if (ch === ',' && !quoted && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * The channel Asterisk makes for an originate to an extension that failed when the context has a
 * `failed` extension: `OutgoingSpoolFailed` (no counter), the originate's caller id and account,
 * REASON set to the originate's reason, then its variables; its PBX runs there to the end.
 */
async function outgoingSpoolFailed(
  ctx: ActionContext,
  context: string,
  caller: { name: string; number: string },
  reason: number,
  vars: Array<[string, string]>,
  account: string,
): Promise<void> {
  const m = ctx.core.model;
  const c = m.create({
    id: newUniqueId(),
    name: 'OutgoingSpoolFailed',
    caller: { ...caller },
    dialplan: { context, exten: 'failed', priority: 1, app_name: '', app_data: '' },
    fromDialplan: true,
    ...(account ? { accountcode: account } : {}),
  });
  c.linkedid = c.id;
  m.setVar(c, 'REASON', String(reason));
  for (const [k, v] of vars) m.setVar(c, k, v);
  await m.runDialplan(c, context, 'failed', 1);
}

/**
 * Originate as manager.c runs it: the checks in its order (ids no longer than 149 characters,
 * a channel, a priority as a number or a label of the extension, a timeout, a technology; with a
 * priority, the extension must exist), then either a synchronous dial (the answer waits for the
 * outcome) or an asynchronous one (answered at once, the outcome told later in an
 * OriginateResponse event carrying the ActionID). The `Variable` headers are set on the dialled
 * channel after its placeholder application and before its caller id, as pbx_outgoing_attempt
 * does. Only Local channels can be dialled here; any other technology fails as an unknown one does
 * (no channel, reason 0). `Codecs` and `Account` are read and have no effect (no media; no
 * account codes).
 */
export const originate: Action = (ctx) => {
  const { f, core } = ctx;
  const name = f.channel ?? '';
  const channelId = f.channelid ?? '';
  const otherChannelId = f.otherchannelid ?? '';
  if (channelId.length > 149 || otherChannelId.length > 149)
    return error(ctx, 'Uniqueid length exceeds maximum of 149\n');
  if (!name) return error(ctx, 'Channel not specified');
  const exten = f.exten ?? '';
  const context = f.context ?? '';
  let priority = 0;
  if (f.priority) {
    priority = scanInt(f.priority) ?? core.model.findLabel(context, exten, f.priority);
    if (priority < 1 && scanInt(f.priority) === null) return error(ctx, 'Invalid priority');
  }
  const timeoutMs = f.timeout ? scanInt(f.timeout) : 30_000;
  if (timeoutMs === null) return error(ctx, 'Invalid timeout');
  if (!name.includes('/')) return error(ctx, 'Invalid channel');
  // Checked whenever a priority is given, even for an application (exten and context are never
  // NULL in manager.c, only empty).
  if (priority && !core.hooks.exists(context, exten, priority))
    return error(ctx, 'Extension does not exist.');
  const app = f.application;
  const async = /^(yes|true|y|t|1|on)$/i.test(f.async ?? '');
  if (!app && !async && !priority)
    return error(ctx, "Originate with 'Exten' requires 'Context' and 'Priority'");
  const caller = parseCallerId(f.callerid);
  const vars = originateVariables(ctx.multi.variable ?? []);
  const after: After = app
    ? { application: app, data: f.data ?? '' }
    : { context, exten, ...(priority > 0 ? { priority } : {}) };
  const r = originateCall(core.model, {
    endpoint: name,
    caller,
    ...(channelId ? { channelId } : {}),
    ...(otherChannelId ? { otherChannelId } : {}),
    after,
    timeoutS: timeoutMs > 0 ? Math.ceil(timeoutMs / 1000) : 30,
    vars,
    varsBeforeCaller: true,
    ...(f.account ? { account: f.account } : {}),
    ...(f.codecs && originateFormats(f.codecs).size === 0 ? { noFormats: true } : {}),
  });
  // A dial to an extension that fails runs the context's `failed` extension first, if it has one
  // (ast_pbx_outgoing_exten_predial), before the answer or the OriginateResponse.
  const outcome = r.outcome.then(async (o) => {
    if (!o.answered && !app && core.model.extensionExists(context, 'failed', 1))
      await outgoingSpoolFailed(ctx, context, caller, o.reason, vars, f.account ?? '');
    return o;
  });
  if (!async) {
    void outcome.then((o) =>
      o.answered
        ? ctx.reply([
            ['Response', 'Success'],
            ['Message', 'Originate successfully queued'],
          ])
        : error(ctx, 'Originate failed'),
    );
    return;
  }
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Originate successfully queued'],
  ]);
  const ch = r.channel;
  void outcome.then((o) => {
    // fast_originate names the channel only when the dial answered: a failed one is reported as
    // it was requested (`tech/data`) with the id asked for, or none.
    const chanName = o.answered && ch ? ch.name : name;
    const uniqueid = o.answered && ch ? ch.id : channelId || '<unknown>';
    const where: Fields = app
      ? [
          ['Application', app],
          ['Data', f.data ?? ''],
        ]
      : [
          ['Context', context],
          ['Exten', exten],
        ];
    ctx.event([
      ['Event', 'OriginateResponse'],
      ['Privilege', 'call,all'],
      ...ctx.actionId,
      ['Response', o.answered ? 'Success' : 'Failure'],
      ['Channel', chanName],
      ...where,
      ['Reason', o.reason],
      ['Uniqueid', uniqueid],
      ['CallerIDNum', caller.number || '<unknown>'],
      ['CallerIDName', caller.name || '<unknown>'],
    ]);
  });
};
