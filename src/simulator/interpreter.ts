// Runs a dialplan channel through the loaded extensions.conf, the way Asterisk's PBX core walks
// priorities. Steps that need no waiting run synchronously, so a Stasis() failure is visible the
// moment the call is placed, as in Asterisk.
import { dialApp } from './app-dial.ts';
import type { AriServer } from './ari/server.ts';
import { type Dialplan, evalCondition, findExtension, type Step, substitute } from './dialplan.ts';
import { readFunction, retrieveVariable, writeFunction } from './functions.ts';
import type { SimChannel, SimModel } from './model.ts';

export interface InterpreterStats {
  stasisFailed: number;
  broadcastTimeouts: number;
}

export interface InterpreterOptions {
  broadcastTimeoutMs?: number;
}

export function createInterpreter(
  dp: Dialplan,
  model: SimModel,
  ari: () => AriServer,
  stats: InterpreterStats,
  o: InterpreterOptions,
) {
  const waitStasisExit = (c: SimChannel) => new Promise<void>((resolve) => model.onceExit(c.id, resolve));
  const sleep = (c: SimChannel, ms: number) => new Promise<void>((r) => model.later(c, ms, r));

  // Busy()/Congestion(): indicate, then wait for the timeout given (seconds) or, with none, until
  // the channel is hung up; then it hangs up with the cause the indication set.
  const indicate = async (c: SimChannel, what: 'BUSY' | 'CONGESTION', data: string) => {
    model.indicate(c, what);
    const s = Number.parseFloat(data);
    if (!(s > 0)) return;
    await sleep(c, s * 1000);
    model.hangup(c.id, c.hangupCause ?? 16);
  };

  /**
   * Gosub on a channel that has no PBX of its own (app_stack's gosub_run, as ast_app_exec_sub runs
   * it for Dial's `U`): `<context>,s,1` must exist; the arguments are the frame's ARGn and ARGC
   * (each reported as `LOCAL(<name>)`), the routine runs until Return (GOSUB_RETVAL its value) or
   * until it cannot go on (GOSUB_RETVAL empty), and the channel's place is put back unpublished.
   */
  const gosub = async (c: SimChannel, context: string, args: string[]): Promise<boolean> => {
    if (!findExtension(dp, context, 's')?.some((st) => st.priority === 1)) return false;
    const saved = c.dialplan;
    const frame = [
      ...args.map((v, i) => [`ARG${i + 1}`, v] as const),
      ['ARGC', String(args.length)] as const,
    ];
    for (const [k, v] of frame) {
      // frame_set_var: pushed onto the channel unreported, then published as LOCAL(<name>).
      model.setVar(c, `LOCAL(${k})`, v);
      c.vars.delete(`LOCAL(${k})`);
      c.vars.set(k, v);
    }
    const sub = { returned: false };
    await run(c, context, 's', 1, sub);
    for (const [k] of frame) c.vars.delete(k);
    if (!sub.returned && model.channels.has(c.id)) model.setVar(c, 'GOSUB_RETVAL', '');
    c.dialplan = { ...c.dialplan, context: saved.context, exten: saved.exten, priority: saved.priority };
    return true;
  };

  const run = async function run(
    c: SimChannel,
    context: string,
    exten: string,
    priority?: number,
    sub?: { returned: boolean },
  ): Promise<void> {
    c.dialplanRun = (c.dialplanRun ?? 0) + 1;
    const runId = c.dialplanRun;
    let ctx = context;
    let ext = exten;
    let steps: Step[] | null = findExtension(dp, ctx, ext);
    let idx =
      priority && steps
        ? Math.max(
            0,
            steps.findIndex((s) => s.priority === priority),
          )
        : 0;
    // ${name}: a function as ast_func_read reads it (a failed read substitutes nothing), else a
    // variable as pbx_retrieve_variable finds it (built-in names, the channel's, the globals').
    const get = (name: string): string => {
      if (name === 'EXTEN') return ext;
      if (name === 'CONTEXT') return ctx;
      if (name.endsWith(')')) return readFunction(model, c, name) ?? '';
      return retrieveVariable(model, c, name) ?? '';
    };
    const jump = (target: string) => {
      const parts = target.split(',').map((x) => x.trim());
      const prio = parts.pop()!;
      if (parts.length === 2) [ctx, ext] = parts as [string, string];
      else if (parts.length === 1) ext = parts[0]!;
      steps = findExtension(dp, ctx, ext);
      if (!steps) return;
      const byLabel = steps.findIndex((s) => s.label === prio);
      idx =
        byLabel >= 0
          ? byLabel
          : Math.max(
              0,
              steps.findIndex((s) => s.priority === Number(prio)),
            );
    };
    // ast_parseable_goto: a label that is not there (or a place with no such extension) fails.
    const parseableGoto = (target: string): boolean => {
      const parts = target.split(',').map((x) => x.trim());
      const prio = parts[parts.length - 1] ?? '';
      const where = findExtension(
        dp,
        parts.length === 3 ? parts[0]! : ctx,
        parts.length === 3 ? parts[1]! : parts.length === 2 ? parts[0]! : ext,
      );
      if (!where || !(/^\d+$/.test(prio) || where.some((st) => st.label === prio))) return false;
      jump(target);
      return true;
    };
    // No such extension: Asterisk hangs the channel up (cause 1, unallocated).
    if (!steps) return model.hangup(c.id, 1);
    while (steps && idx < steps.length && model.channels.has(c.id) && c.dialplanRun === runId) {
      const st: Step = steps[idx++]!;
      c.dialplan = { ...c.dialplan, context: ctx, exten: ext, priority: st.priority };
      // The application runs with its data substituted, and is shown so (pbx_exec); each step is a
      // new place in the dialplan (AMI Newexten, ARI ChannelDialplan).
      const data = substitute(st.data, get);
      c.dialplan = { ...c.dialplan, app_name: st.app, app_data: data };
      model.publish(c);
      switch (st.app) {
        case 'NoOp':
          break;
        case 'Set': {
          // pbx_builtin_setvar: a name ending in `)` is a function written, anything else a variable.
          const eq = data.indexOf('=');
          const name = data.slice(0, eq).trim();
          if (eq > 0 && name.endsWith(')')) writeFunction(model, c, name, data.slice(eq + 1));
          else if (eq > 0) model.setVar(c, name, data.slice(eq + 1));
          break;
        }
        case 'Answer':
          model.setState(c, 'Up');
          break;
        case 'Wait':
          await sleep(c, Number(data) * 1000);
          break;
        case 'Echo':
          return; // holds the channel until the far end hangs up
        case 'Hangup':
          return model.hangup(c.id, Number(data) || c.hangupCause || 16);
        case 'Busy':
        case 'Congestion':
          return indicate(c, st.app === 'Busy' ? 'BUSY' : 'CONGESTION', data);
        case 'Goto':
          jump(data);
          break;
        case 'GotoIf': {
          const q = data.lastIndexOf('?');
          const [yes, no] = data.slice(q + 1).split(':');
          const target = evalCondition(data.slice(0, q)) ? yes : no;
          if (target) jump(target);
          break;
        }
        case 'Stasis': {
          const [app, ...args] = data.split(',');
          if (!app || !ari().state.apps.has(app)) {
            // No WebSocket holds the app: Stasis() fails at once (app_stasis.c empties
            // STASISSTATUS first, as it does before every run).
            stats.stasisFailed++;
            model.setVar(c, 'STASISSTATUS', '');
            model.setVar(c, 'STASISSTATUS', 'FAILED');
            break;
          }
          // STASISSTATUS is emptied on the way in and set to SUCCESS on the way out (model.ts).
          model.enterStasis(c, app, args);
          await waitStasisExit(c);
          break;
        }
        case 'StasisBroadcast': {
          const [timeout, filter, args] = data.split(',');
          const winner = await ari().state.broadcast(
            c,
            new RegExp(filter || '.*'),
            o.broadcastTimeoutMs ?? (Number(timeout) || 500),
          );
          if (!model.channels.has(c.id)) return;
          if (!winner) {
            stats.broadcastTimeouts++;
            model.setVar(c, 'STASISSTATUS', 'TIMEOUT');
            break;
          }
          model.enterStasis(c, winner, args ? args.split(':') : []);
          await waitStasisExit(c);
          break;
        }
        case 'Return':
          // Return without Gosub: the application fails and the channel's PBX ends.
          if (!sub) return model.hangup(c.id, c.hangupCause ?? 16);
          sub.returned = true;
          model.setVar(c, 'GOSUB_RETVAL', data);
          return;
        case 'Dial': {
          // app_dial (src/simulator/app-dial.ts): false when the caller is gone or stays connected.
          if (!(await dialApp(model, c, data, { gosub, goto: parseableGoto }))) return;
          break;
        }
      }
    }
    // A subroutine that falls off its end (or whose channel hung up) just stops: gosub_run's caller
    // goes on with the channel as it is.
    if (sub) return;
    // A later run (ARI `continue` to another place) owns the channel now.
    if (!model.channels.has(c.id) || c.app || c.dialplanRun !== runId) return;
    // Falling off the end of an extension (autofallthrough): after a Dial that was busy the
    // channel indicates busy for 10 s, after one congested or unavailable congestion, as pbx.c does;
    // otherwise it hangs up.
    const status = c.vars.get('DIALSTATUS');
    if (steps && idx >= steps.length && status === 'BUSY') return indicate(c, 'BUSY', '10');
    if (steps && idx >= steps.length && (status === 'CONGESTION' || status === 'CHANUNAVAIL'))
      return indicate(c, 'CONGESTION', '10');
    model.hangup(c.id, c.hangupCause ?? 16);
  };
  return run;
}
