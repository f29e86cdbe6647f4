// Channel variables and dialplan functions over ARI: a name ending in `)` is a function
// (ast_func_read2 / ast_func_write, src/simulator/functions.ts), anything else a variable
// (ast_str_retrieve_variable: the channel's built-in names, its variables, then the globals).
import { readFunction, retrieveVariable, writeFunction } from '../functions.ts';
import type { SimChannel, SimModel } from '../model.ts';
import { err, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

/** A variable's value, or Asterisk's 404 (variable) or 500 (a function it cannot read). */
export function readVariable(m: SimModel, c: SimChannel, name: string): { value: string } | Reply {
  if (!name.endsWith(')')) {
    const v = retrieveVariable(m, c, name);
    return v === undefined ? err(404, 'Provided variable was not found') : { value: v };
  }
  const v = readFunction(m, c, name);
  return v === null ? err(500, 'Unable to read provided function') : { value: v };
}

/**
 * Sets a variable (VarSet, ChannelVarset) or writes a function (see functions.ts). A function that
 * cannot be written is not: Asterisk logs the failed write and answers 204 all the same
 * (pbx_builtin_setvar_helper's result is not looked at).
 */
export function setVariable(c: SimChannel, name: string, value: string, s: AriState): Reply {
  if (name.endsWith(')')) writeFunction(s.model, c, name, value);
  else s.model.setVar(c, name, value);
  return { status: 204 };
}
