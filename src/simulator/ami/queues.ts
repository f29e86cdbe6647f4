// app_queue's status actions: QueueStatus and QueueSummary, as manager_queues_status and
// manager_queues_summary answer them. The simulator has no queues unless it is started with some
// (`startSimulator({ queues })`: queues.conf's static queues and members); no caller ever waits in
// one (the dialplan has no Queue()), so the counters stay 0 and no QueueEntry is listed. A member's
// Status is its state interface's device state now, as app_queue keeps it from device state events.
import { DEVICE_STATE } from '../devices.ts';
import { caseHash, hashOrder } from './ao2.ts';
import type { Fields } from './protocol.ts';
import type { Queue, QueueConfig } from './queue-config.ts';
import type { Action, ActionContext } from './session.ts';

export type { Queue, QueueConfig, QueueMemberConfig } from './queue-config.ts';

/** app_queue's member_hash_fn: the first five characters after the `/`, six bits each. */
const memberHash = (iface: string): number => {
  const slash = iface.indexOf('/');
  const name = slash >= 0 ? iface.slice(slash) : iface;
  let ret = 0;
  for (let i = 0; i < 5 && i < name.length; i++) {
    const c = name.charCodeAt(i);
    ret = (ret + ((c < 32 ? 0 : c > 96 ? c - 64 : c - 32) << (i * 6))) | 0;
  }
  return ret;
};

/** The configured queues in the order app_queue's `queues` container (53 buckets) iterates them. */
export function loadQueues(configs: QueueConfig[]): Queue[] {
  const now = Math.floor(Date.now() / 1000);
  const queues = configs.map((config): Queue => {
    const strategy = config.strategy ?? 'ringall';
    const members = (config.members ?? []).map((m) => ({
      interface: m.interface,
      name: m.name ?? m.interface,
      penalty: m.penalty ?? 0,
      paused: m.paused ?? false,
      stateInterface: m.stateInterface ?? m.interface,
      loginTime: now,
    }));
    // linear and rrordered queues keep their members in a list (configuration order); others in
    // a hash container of 37 buckets.
    const ordered = ['linear', 'rrordered'].includes(strategy)
      ? members
      : hashOrder(members, (m) => memberHash(m.interface), 37);
    return { config, strategy: strategy === 'roundrobin' ? 'rrmemory' : strategy, members: ordered };
  });
  return hashOrder(queues, (q) => caseHash(q.config.name), 53);
}

const memberStatus = (ctx: ActionContext, device: string) =>
  DEVICE_STATE[ctx.core.hooks.deviceState(device)] ?? DEVICE_STATE.INVALID!;

const listAck = (ctx: ActionContext, message: string) =>
  ctx.reply([
    ['Response', 'Success'],
    ['EventList', 'start'],
    ['Message', message],
  ]);

/** app_queue writes its list items with the ActionID last. */
const item = (ctx: ActionContext, fields: Fields) =>
  ctx.session.write(packetWithIdLast(fields, ctx.actionId));
const packetWithIdLast = (fields: Fields, id: Fields) =>
  `${[...fields, ...id].map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

const matches = (q: Queue, filter: string) => !filter || q.config.name.toLowerCase() === filter.toLowerCase();

/**
 * QueueStatus: per queue (or the one `Queue` names) QueueParams, then its QueueMember events (all,
 * or those whose interface or name is `Member`), then QueueStatusComplete counting them all.
 */
export const queueStatus: Action = (ctx) => {
  const queueFilter = ctx.f.queue ?? '';
  const memberFilter = ctx.f.member ?? '';
  listAck(ctx, 'Queue status will follow');
  let n = 0;
  for (const q of ctx.core.queues) {
    if (!matches(q, queueFilter)) continue;
    const c = q.config;
    item(ctx, [
      ['Event', 'QueueParams'],
      ['Queue', c.name],
      ['Max', c.maxlen ?? 0],
      ['Strategy', q.strategy],
      ['Calls', 0],
      ['Holdtime', 0],
      ['TalkTime', 0],
      ['Completed', 0],
      ['Abandoned', 0],
      ['ServiceLevel', c.servicelevel ?? 0],
      ['ServicelevelPerf', '0.0'],
      ['ServicelevelPerf2', '0.0'],
      ['Weight', c.weight ?? 0],
    ]);
    n++;
    for (const m of q.members) {
      if (memberFilter && m.interface !== memberFilter && m.name !== memberFilter) continue;
      item(ctx, [
        ['Event', 'QueueMember'],
        ['Queue', c.name],
        ['Name', m.name],
        ['Location', m.interface],
        ['StateInterface', m.stateInterface],
        ['Membership', 'static'],
        ['Penalty', m.penalty],
        ['CallsTaken', 0],
        ['LastCall', 0],
        ['LastPause', 0],
        ['LoginTime', m.loginTime],
        ['InCall', 0],
        ['Status', memberStatus(ctx, m.stateInterface)],
        ['Paused', m.paused ? 1 : 0],
        ['PausedReason', ''],
        ['Wrapuptime', 0],
      ]);
      n++;
    }
  }
  complete(ctx, 'QueueStatusComplete', n);
};

/**
 * QueueSummary: per queue (or the one `Queue` names) its members logged in (neither unavailable nor
 * invalid) and available (not in use or unknown, and not paused), callers and hold times.
 */
export const queueSummary: Action = (ctx) => {
  const queueFilter = ctx.f.queue ?? '';
  listAck(ctx, 'Queue summary will follow');
  let n = 0;
  for (const q of ctx.core.queues) {
    if (!matches(q, queueFilter)) continue;
    let loggedIn = 0;
    let available = 0;
    for (const m of q.members) {
      const s = memberStatus(ctx, m.stateInterface);
      if (s === DEVICE_STATE.UNAVAILABLE || s === DEVICE_STATE.INVALID) continue;
      loggedIn++;
      if ((s === DEVICE_STATE.NOT_INUSE || s === DEVICE_STATE.UNKNOWN) && !m.paused) available++;
    }
    item(ctx, [
      ['Event', 'QueueSummary'],
      ['Queue', q.config.name],
      ['LoggedIn', loggedIn],
      ['Available', available],
      ['Callers', 0],
      ['HoldTime', 0],
      ['TalkTime', 0],
      ['LongestHoldTime', 0],
    ]);
    n++;
  }
  complete(ctx, 'QueueSummaryComplete', n);
};

/** astman_send_list_complete_start/end: the ActionID after the Event line. */
const complete = (ctx: ActionContext, event: string, n: number) =>
  ctx.listEvent([
    ['Event', event],
    ['EventList', 'Complete'],
    ['ListItems', n],
  ]);
