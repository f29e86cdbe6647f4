// One ordered queue per key (a call): tasks of one key run one at a time in submission order,
// different keys run independently. This is how events of one call are handled in Asterisk's order
// even when a handler awaits REST calls, without serialising unrelated calls.
export class KeyedQueue {
  private tails = new Map<string, Promise<void>>();

  constructor(private onError: (key: string, err: unknown) => void = () => {}) {}

  /** Enqueue `task` for `key`; the returned promise settles with the task (errors are also reported). */
  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(task);
    const tail = result.then(
      () => {},
      (err: unknown) => this.onError(key, err),
    );
    this.tails.set(key, tail);
    // Free the key once its last task is done, so idle calls cost nothing.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Number of keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }

  /** Resolves when every task queued so far has settled. */
  async drain(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }
}
