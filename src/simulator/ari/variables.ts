// Channel variables and the few dialplan functions ARI reads and writes in the simulator: a name
// ending in `)` is a function (ast_func_read2 / ast_func_write), anything else a variable.
import type { SimChannel } from '../model.ts';
import { err, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

/** A variable's value, or Asterisk's 404 (variable) or 500 (a function it cannot read). */
export function readVariable(c: SimChannel, name: string): { value: string } | Reply {
  if (!name.endsWith(')')) {
    const v = c.vars.get(name);
    return v === undefined ? err(404, 'Provided variable was not found') : { value: v };
  }
  const cid = /^CALLERID\((num|name|all)\)$/i.exec(name);
  if (cid) {
    const k = cid[1]!.toLowerCase();
    return {
      value:
        k === 'num'
          ? c.caller.number
          : k === 'name'
            ? c.caller.name
            : `"${c.caller.name}" <${c.caller.number}>`,
    };
  }
  // TIMEOUT(absolute) reads the seconds left ("%.3f"), or "0" when none is set.
  if (/^TIMEOUT\(a/i.test(name))
    return { value: c.hangupAt === undefined ? '0' : ((c.hangupAt - Date.now()) / 1000).toFixed(3) };
  return err(500, 'Unable to read provided function');
}

/**
 * Sets a variable (VarSet, ChannelVarset) or writes a function: CALLERID(num|name) changes the
 * caller (NewCallerid, ChannelCallerId; no VarSet); TIMEOUT(absolute) (func_timeout.c reads the first letter of
 * its argument, the value as whole seconds with an optional fraction) hangs the channel up that
 * long from now. Any other function is not written (Asterisk logs the failed write and answers
 * 204 all the same: pbx_builtin_setvar_helper returns nothing).
 */
export function setVariable(c: SimChannel, name: string, value: string, s: AriState): Reply {
  if (!name.endsWith(')')) {
    s.model.setVar(c, name, value);
    return { status: 204 };
  }
  const cid = /^CALLERID\((num|name)\)$/i.exec(name);
  if (cid) {
    c.caller =
      cid[1]!.toLowerCase() === 'num' ? { ...c.caller, number: value } : { ...c.caller, name: value };
    // A changed caller id is published (NewCallerid, ChannelCallerId); the same one is not.
    s.model.publish(c);
    return { status: 204 };
  }
  if (/^TIMEOUT\(a[^)]*\)$/i.test(name)) {
    const m = /^\s*(-?\d+)(\.\d*)?/.exec(value);
    s.model.setAbsoluteTimeout(c, m ? Number(m[1]) + Number(m[2] ?? 0) : 0);
    return { status: 204 };
  }
  return { status: 204 };
}
