// A Stasis channel's control queue for the operations that are not media (res/stasis/control.c):
// Asterisk runs every command on the channel's own thread, one after another, so an operation
// asked for while a playback or recording runs (or waits) takes effect only when its turn comes.
// Most are queued asynchronously (the HTTP answer does not wait: continue, move, redirect, ring,
// progress, DTMF, mute, hold, music on hold, silence, dial); answer, setting a variable and adding
// a channel to or removing it from a bridge are synchronous (stasis_app_send_command): the HTTP
// answer waits for the command's turn. With nothing queued the thread picks a command up at once,
// so it takes effect straight away, as before the answer in practice.
//
// Leaving Stasis does not skip what waits: control_dispatch_all runs every command queued before
// the thread looks at the channel again, so a command queued behind a `continue` runs after it,
// before StasisEnd, and what is queued behind a playback still runs after the playback ends on a
// hangup, on the hung-up channel (media.ts targetGone): a synchronous one answers, a playback or
// recording starts and fails at once, the others (hold, DTMF, ...) have nothing left to act on.
import type { SimChannel } from '../model.ts';
import { err, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

const key = (c: SimChannel) => `channel:${c.id}`;

/**
 * control->is_done: once a `continue` has run, stasis_app_send_command and its asynchronous form
 * refuse every new command (-1) while what was queued behind it drains. Each resource makes its
 * own answer of that: most ignore it (204, nothing happens), a playback or recording is answered
 * 201 `queued` and never runs, setting a variable is 400 `Failed to execute function`, answer 500
 * `Failed to answer channel`, dial 500 `Allocation failed`.
 */
export const controlDone = (s: AriState, c: SimChannel) => s.doneControls.has(c.id);

/**
 * Queues `run` on the channel's control queue, asynchronously: at once when the queue is idle
 * (unless `later`, which always waits a turn, as a dial does), else after what is queued. `ms` is
 * how long the command holds the channel's thread (sending DTMF). False when the control is done
 * and the command was refused.
 */
export function controlAsync(
  s: AriState,
  c: SimChannel,
  run: () => void,
  o: { ms?: number; later?: boolean } = {},
): boolean {
  if (controlDone(s, c)) return false;
  const q = s.media.queues;
  const ms = o.ms ?? 0;
  if (q.idle(key(c)) && !ms && !o.later) {
    run();
    return true;
  }
  q.push(key(c), {
    run: (done) => {
      run();
      if (!ms) return done();
      const t = setTimeout(done, ms);
      t.unref?.();
    },
    drop: () => {},
  });
  return true;
}

/**
 * Runs `run` on the channel's control queue and answers with its reply once it has run. When the
 * channel leaves Stasis while it waits (a hangup, or a `continue` before it), `dropped` answers:
 * a reply, or what the command does on a channel on its way out of Stasis. A control already done
 * refuses the command: `refused` is the resource's answer.
 */
export function controlSync(
  s: AriState,
  c: SimChannel,
  run: () => Reply,
  dropped: Reply | (() => Reply),
  refused: Reply,
): Reply | Promise<Reply> {
  if (controlDone(s, c)) return refused;
  const q = s.media.queues;
  if (q.idle(key(c))) return run();
  return new Promise((resolve) =>
    q.push(key(c), {
      run: (done) => {
        resolve(run());
        done();
      },
      drop: () => resolve(typeof dropped === 'function' ? dropped() : dropped),
    }),
  );
}

/**
 * Synchronous commands one after another on one channel, as a handler sending several (each
 * variable of setChannelVars) waits for each before it sends the next; the first non-204 stops.
 */
export async function controlSyncEach<T>(
  s: AriState,
  c: SimChannel,
  items: T[],
  one: (item: T) => Reply,
): Promise<Reply> {
  for (const [i, item] of items.entries()) {
    // A control done with Stasis takes no more commands (app_send_command_on_condition: -1).
    if (i > 0 && !c.app) return err(400, 'Failed to execute function');
    const r = await controlSync(
      s,
      c,
      () => one(item),
      () => one(item),
      err(400, 'Failed to execute function'),
    );
    if (r.status !== 204) return r;
  }
  return { status: 204 };
}

/**
 * Runs `fn` once every command queued on the channel so far has run (at once when none waits):
 * the end of the dispatch pass a command that ends the Stasis stay (`continue`) ran in. A hangup
 * first drops it (the hangup ends the stay).
 */
export function afterQueue(s: AriState, c: SimChannel, fn: () => void): void {
  const q = s.media.queues;
  if (q.waiting(key(c))) q.whenIdle(key(c), fn);
  else fn();
}

/**
 * How long ast_dtmf_stream holds the channel (main/app.c): `before`, 100 ms of quiet, each digit
 * for its duration (at least 100 ms: less, or none, is 100) then `between` (100 ms when none is given), `w`
 * half a second, `W` a second; then `after`. Each digit is sent at its own offset.
 */
export function dtmfPlan(
  dtmf: string,
  o: { before: number; between: number; duration: number; after: number },
): { digits: Array<{ digit: string; at: number; duration: number }>; ms: number } {
  const between = o.between || 100;
  // ast_senddigit never holds a digit less than AST_DEFAULT_EMULATE_DTMF_DURATION (100 ms).
  const duration = Math.max(o.duration, 100);
  let t = o.before + 100;
  const digits: Array<{ digit: string; at: number; duration: number }> = [];
  for (const ch of dtmf) {
    if (ch === 'w') t += 500;
    else if (ch === 'W') t += 1000;
    else if (/^[0-9*#abcdfABCDF]$/.test(ch)) {
      if (ch !== 'f' && ch !== 'F') digits.push({ digit: ch, at: t + duration, duration });
      t += (ch === 'f' || ch === 'F' ? 0 : duration) + between;
    }
  }
  return { digits, ms: t + o.after };
}
