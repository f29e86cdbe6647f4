// AMI Getvar and Setvar: variables and dialplan functions (src/simulator/functions.ts), as
// manager.c's action_getvar and action_setvar read and write them.
import { readFunction, retrieveVariable, writeFunction } from '../functions.ts';
import type { SimChannel } from '../model.ts';
import { error } from './auth.ts';
import { type Action, byName } from './session.ts';

/**
 * Getvar (manager.c action_getvar): a function is read with ast_func_read, on a dummy channel when
 * none is named; whether the read fails or not the answer is Success with what it left (empty for
 * a function Asterisk does not have). A variable is pbx_retrieve_variable's: the channel's built-in
 * names, its variables, then the globals.
 */
export const getvar: Action = (ctx) => {
  const variable = ctx.f.variable ?? '';
  if (!variable) return error(ctx, 'No variable specified');
  let c: SimChannel | null = null;
  if (ctx.f.channel) {
    c = byName(ctx, ctx.f.channel) ?? null;
    if (!c) return error(ctx, 'No such channel');
  }
  const m = ctx.core.model;
  const value = variable.endsWith(')')
    ? c
      ? (readFunction(m, c, variable) ?? '')
      : (readFunction(m, dummyChannel(), variable) ?? '')
    : (retrieveVariable(m, c, variable) ?? '');
  ctx.reply([
    ['Response', 'Success'],
    ['Variable', variable],
    ['Value', value],
  ]);
};

/** ast_dummy_channel_alloc: a channel with no name, no parties and no variables. */
const dummyChannel = (): SimChannel => ({
  id: '',
  name: '',
  state: 'Down',
  caller: { name: '', number: '' },
  connected: { name: '', number: '' },
  dialplan: { context: '', exten: '', priority: 0, app_name: '', app_data: '' },
  creationtime: '',
  vars: new Map(),
  app: null,
  fromDialplan: false,
  bridge: null,
  endpoint: null,
  timers: [],
  dialing: false,
});

/**
 * Setvar (manager.c action_setvar): pbx_builtin_setvar_helper, which writes a function with
 * ast_func_write (`Variable not set` when that fails: a function Asterisk does not have, or one that
 * needs a channel when none is named) and sets anything else as a channel or global variable.
 */
export const setvar: Action = (ctx) => {
  const variable = ctx.f.variable ?? '';
  if (!variable) return error(ctx, 'No variable specified');
  const value = ctx.f.value ?? '';
  let c: SimChannel | null = null;
  if (ctx.f.channel) {
    c = byName(ctx, ctx.f.channel) ?? null;
    if (!c) return error(ctx, 'No such channel');
  }
  const m = ctx.core.model;
  if (variable.endsWith(')')) {
    if (!writeFunction(m, c, variable, value)) return error(ctx, 'Variable not set');
  } else if (c) m.setVar(c, variable, value);
  else m.setGlobal(variable, value);
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Variable Set'],
  ]);
};
