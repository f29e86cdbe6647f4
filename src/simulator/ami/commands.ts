// The actions Asterisk 22 registers (commands.json: the core, chan_pjsip and the res_pjsip family,
// app_queue, app_mixmonitor, app_senddtmf), as ListCommands prints them, and the answer to one the
// simulator lists but does not model: Asterisk knows it, so it is not an unknown command.
import data from './commands.json' with { type: 'json' };
import { error } from './auth.ts';
import type { Action } from './session.ts';

type Command = [action: string, privilege: string, synopsis: string, module: string];

/** Every registered action, in manager.c's order (strcasecmp), with its privilege and synopsis. */
export const COMMANDS = data.actions as Command[];

/** The registered names, lower-cased (manager.c looks actions up with strcasecmp). */
const BY_NAME = new Map(COMMANDS.map((c) => [c[0].toLowerCase(), c] as const));

/**
 * ListCommands (manager.c action_listcommands): an acknowledgement without a Message, then one
 * `<Action>: <synopsis> (Priv: <privilege>)` line per action the user may write (the simulator's
 * user writes every class), then the blank line. One packet.
 */
export const listCommands: Action = (ctx) => {
  let text = 'Response: Success\r\n';
  for (const [k, v] of ctx.actionId) text += `${k}: ${v}\r\n`;
  for (const [action, privilege, synopsis] of COMMANDS)
    text += `${action}: ${synopsis} (Priv: ${privilege})\r\n`;
  ctx.session.write(`${text}\r\n`);
};

/** The registered action of that name, if Asterisk has one. */
export const registered = (name: string): Command | undefined => BY_NAME.get(name.toLowerCase());

/**
 * An action Asterisk has but the simulator does not model (docs/simulator.md lists them): an
 * error that says so, without the RequestBadFormat security event an unknown command causes.
 */
export const unmodelled: Action = (ctx) => {
  const c = registered(ctx.f.action ?? '');
  error(ctx, `${c?.[0] ?? ctx.f.action} (${c?.[3] ?? 'core'}) is listed but not modelled by the simulator`);
};
