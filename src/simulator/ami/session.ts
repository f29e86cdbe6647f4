// One manager session and what an action handler gets to answer on it.
import type { Socket } from 'node:net';
import type { SimChannel, SimModel } from '../model.ts';
import type { PjsipDirectory } from '../pjsip/directory.ts';
import type { CdrManagerSettings } from './cdr.ts';
import type { EventFilter } from './filters.ts';
import type { Fields } from './protocol.ts';
import type { Queue, QueueConfig } from './queue-config.ts';
import type { AmiUser } from './user.ts';

/**
 * A manager session: login state, the event classes it is sent (manager.c `send_events`: none
 * until login, then the `Events` of the login or the user's read classes, changed by the `Events`
 * action), the session's `Filter` regexes, and what its security events name.
 */
export type Session = Socket & {
  loggedIn?: boolean;
  sendEvents: number;
  filters?: { include: EventFilter[]; exclude: EventFilter[] };
  /** The user logged in as ('' until then). */
  username: string;
  /** Asterisk prints its session pointer (`%p`); the simulator makes one up per session. */
  sessionId: string;
  /** When the login succeeded (the security events' SessionTV; the epoch until then). */
  startedAt: Date;
  /** The MD5 challenge handed out by `Challenge` (kept for the session, as Asterisk does). */
  challenge?: string;
};

/** A MixMonitor's file is complete: `durationS` more seconds (added to what it had with `a`). */
export type StoreFile = (path: string, format: string, durationS: number, append: boolean) => void;

export interface AmiHooks {
  /** res_pjsip's objects (realtime tables and configured endpoints). */
  pjsip: PjsipDirectory;
  /** cdr_manager's configuration (Cdr events), when the module is enabled. */
  cdrManager?: CdrManagerSettings;
  /** A MixMonitor's file is complete (stored where ARI's stored recordings are, if it is there). */
  storeFile: StoreFile;
  /** A device's state now, by ast_devstate_str's names (NOT_INUSE, INUSE, ..., INVALID). */
  deviceState(device: string): string;
  /** The dialplan's hint for an extension (an exact one, else a pattern's), or null. */
  hint(context: string, exten: string): string | null;
  /** Every hint of the dialplan, in the order it was loaded. */
  hints(): Array<{ context: string; exten: string; hint: string }>;
  /** Whether the dialplan has that extension at that priority (ast_exists_extension). */
  exists(context: string, exten: string, priority: number): boolean;
  /** app_queue's static queues (none unless configured). */
  queues?: QueueConfig[];
}

/** What the server keeps that actions read or change. */
export interface AmiCore {
  model: SimModel;
  hooks: AmiHooks;
  user: string;
  secret: string;
  /** The user's ACL, multiple-login setting and the unauthenticated sessions' limits. */
  options: AmiUser;
  badLoginDelayMs: number;
  started: Date;
  reloaded: Date;
  /** Channels created since start (CoreStatus CoreProcessedCalls). */
  processedCalls: number;
  /** app_queue's queues, in the order its container iterates them. */
  queues: Queue[];
}

export interface ActionContext {
  core: AmiCore;
  session: Session;
  /** The action's headers, names lower-cased (the first of a repeated one). */
  f: Record<string, string>;
  /** Every value of each header, in order (`Variable` may be repeated). */
  multi: Record<string, string[]>;
  /** The response: its first field, then the ActionID, then the rest. */
  reply(fields: Fields): void;
  /** A packet of an event list (carries the ActionID after its Event line). */
  listEvent(fields: Fields): void;
  /** The `ActionID` field to echo (empty when the action had none). */
  actionId: Fields;
  /** An event to every session that may read it (such as OriginateResponse). */
  event(fields: Fields): void;
  /** A channel event of the `call` class (Event, Privilege, the channel's snapshot, `extra`). */
  channelEvent(event: string, c: SimChannel, extra?: Fields): void;
  /** Whether another session is logged in as `user` now. */
  inUse(user: string): boolean;
}

export type Action = (ctx: ActionContext) => void;

/** A channel by name or uniqueid, as ast_channel_get_by_name finds it. */
export const byName = (ctx: ActionContext, name: string): SimChannel | undefined => {
  const m = ctx.core.model;
  return m.channels.get(name) ?? [...m.channels.values()].find((c) => c.name === name);
};
