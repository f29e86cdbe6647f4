// ExtensionState and ExtensionStateList (manager.c action_extensionstate, pbx.c
// action_extensionstatelist): an extension's hint and the state pbx.c computes from its devices'
// states (ast_extension_state3: each device of the hint aggregated, then turned into an extension
// state). The hints are the dialplan's (`exten => 100,hint,PJSIP/a&PJSIP/b`).
import { DEVICE_STATE as DEVICE } from '../devices.ts';
import { caseHash, hashOrder } from './ao2.ts';
import { error } from './auth.ts';
import type { Action, ActionContext } from './session.ts';

/** ast_devstate_aggregate_add's ranking, by device state. */
const ORDER = [1, 3, 6, 7, 0, 2, 5, 8, 4];

/** ast_devstate_aggregate_*: several devices' states as one. */
export function aggregate(states: number[]): number {
  let state = DEVICE.INVALID!;
  let ringing = false;
  let inuse = false;
  for (const s of states) {
    if (s === DEVICE.RINGING) ringing = true;
    else if (s === DEVICE.INUSE || s === DEVICE.ONHOLD || s === DEVICE.BUSY) inuse = true;
    if (ringing && inuse) state = DEVICE.RINGINUSE!;
    else if (ORDER[s]! > ORDER[state]!) state = s;
  }
  return state;
}

/** ast_devstate_to_extenstate: NOT_INUSE 0, INUSE 1, BUSY 2, UNAVAILABLE 4, RINGING 8, ONHOLD 16. */
export function toExtensionState(device: number): number {
  switch (device) {
    case DEVICE.ONHOLD:
      return 16;
    case DEVICE.BUSY:
      return 2;
    case DEVICE.UNAVAILABLE:
    case DEVICE.INVALID:
      return 4;
    case DEVICE.RINGINUSE:
      return 1 | 8;
    case DEVICE.RINGING:
      return 8;
    case DEVICE.INUSE:
      return 1;
    default:
      return 0;
  }
}

/** ast_extension_state2str. */
export function extensionStateText(state: number): string {
  const texts: Record<number, string> = {
    0: 'Idle',
    1: 'InUse',
    2: 'Busy',
    4: 'Unavailable',
    8: 'Ringing',
    9: 'InUse&Ringing',
    16: 'Hold',
    17: 'InUse&Hold',
  };
  return texts[state] ?? 'Unknown';
}

/** A hint's state: its devices (up to its last comma, joined by `&`) asked one by one. */
export function hintState(hint: string, deviceState: (device: string) => string): number {
  const comma = hint.lastIndexOf(',');
  const devices = (comma >= 0 ? hint.slice(0, comma) : hint).split('&');
  return toExtensionState(aggregate(devices.map((d) => DEVICE[deviceState(d)] ?? DEVICE.INVALID!)));
}

const stateOf = (ctx: ActionContext, hint: string) => hintState(hint, ctx.core.hooks.deviceState);

/**
 * ExtensionState: `Exten` required, `Context` default `default`; no hint is Status -1 (`Unknown`)
 * with an empty Hint. One packet: an acknowledgement, then Message and the fields.
 */
export const extensionState: Action = (ctx) => {
  const exten = ctx.f.exten ?? '';
  if (!exten) return error(ctx, 'Extension not specified');
  const context = ctx.f.context || 'default';
  const hint = ctx.core.hooks.hint(context, exten);
  const status = hint === null ? -1 : stateOf(ctx, hint);
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Extension Status'],
    ['Exten', exten],
    ['Context', context],
    ['Hint', hint ?? ''],
    ['Status', status],
    ['StatusText', extensionStateText(status)],
  ]);
};

/**
 * ExtensionStateList: an ExtensionStatus per hint of a literal extension (pattern hints are not
 * listed), in the order pbx.c's hints container (563 buckets by the extension's name) keeps them.
 */
export const extensionStateList: Action = (ctx) => {
  const hints = hashOrder(ctx.core.hooks.hints(), (h) => caseHash(h.exten), 563).filter(
    (h) => !h.exten.startsWith('_'),
  );
  ctx.reply([
    ['Response', 'Success'],
    ['EventList', 'start'],
    ['Message', 'Extension Statuses will follow'],
  ]);
  for (const h of hints) {
    const status = stateOf(ctx, h.hint);
    ctx.listEvent([
      ['Event', 'ExtensionStatus'],
      ['Exten', h.exten],
      ['Context', h.context],
      ['Hint', h.hint],
      ['Status', status],
      ['StatusText', extensionStateText(status)],
    ]);
  }
  ctx.listEvent([
    ['Event', 'ExtensionStateListComplete'],
    ['EventList', 'Complete'],
    ['ListItems', hints.length],
  ]);
};
