// The per-target command queue: a channel's (or bridge's) media commands run one at a time, in
// order, as on Asterisk's control thread (res_stasis); and what a finished recording leaves.
export interface StoredRecording {
  name: string;
  format: string;
  durationS: number;
}

/** One command on a target's queue: `run` starts it and calls `done` when it ends. */
export interface Command {
  run(done: () => void): void;
  /** The target went away before the command's turn: it never runs (control_flush_queue). */
  drop(): void;
  /**
   * Its turn comes on a channel that has hung up: control_dispatch_all still runs every command
   * queued before the Stasis loop sees the hangup, each on the hung-up channel, where what it
   * waits for fails at once (no time passes). Without it, `drop` is what it does there.
   */
  hungUp?(): void;
}

/**
 * Each target's commands, run one at a time in the order asked. A command starts on a later tick
 * than the request that queued it, as on the control thread, so the HTTP answer says "queued".
 */
export class CommandQueues {
  private queues = new Map<string, { running: boolean; commands: Command[] }>();
  /** What to do once a target's queue is exhausted (a bridge's announcer or recorder hangs up). */
  private onIdle = new Map<string, () => void>();

  /**
   * Calls `fn` once the target's queue runs dry after its last command (as
   * stasis_app_control_execute_until_exhausted returns); never when the queue is flushed.
   */
  whenIdle(target: string, fn: () => void): void {
    this.onIdle.set(target, fn);
  }

  /** Nothing runs or waits on the target: a command given now would start at once. */
  idle(target: string): boolean {
    return !this.queues.has(target);
  }

  /** How many commands wait on the target, the running one not counted. */
  waiting(target: string): number {
    return this.queues.get(target)?.commands.length ?? 0;
  }

  push(target: string, c: Command): void {
    const q = this.queues.get(target) ?? { running: false, commands: [] };
    this.queues.set(target, q);
    q.commands.push(c);
    if (!q.running) setImmediate(() => this.pump(target));
  }

  private pump(target: string): void {
    const q = this.queues.get(target);
    if (!q || q.running) return;
    const next = q.commands.shift();
    if (!next) {
      this.queues.delete(target);
      const fn = this.onIdle.get(target);
      this.onIdle.delete(target);
      fn?.();
      return;
    }
    q.running = true;
    let finished = false;
    next.run(() => {
      if (finished) return;
      finished = true;
      q.running = false;
      this.pump(target);
    });
  }

  /** Drops every command still waiting on a target (the one running ends on its own). */
  flush(target: string): void {
    for (const c of this.take(target)) c.drop();
  }

  /**
   * Takes every command still waiting on a target off its queue, unrun and not yet dropped, for
   * the caller to drop once what runs has ended (a hangup: the playback fails first).
   */
  take(target: string): Command[] {
    this.onIdle.delete(target);
    const q = this.queues.get(target);
    if (!q) return [];
    const waiting = q.commands.splice(0);
    if (!q.running) this.queues.delete(target);
    return waiting;
  }
}
