// What a test opens (simulators, sockets, clients), closed after each test in the reverse order it
// was opened, so a failing test leaves nothing running into the next.
import { afterEach } from 'vitest';

export type Cleanup = Array<() => Promise<unknown> | unknown>;

/** A list the file's tests push closers onto; registers the afterEach that runs and empties it. */
export function cleanupEach(): Cleanup {
  const list: Cleanup = [];
  afterEach(async () => {
    for (const close of list.splice(0).reverse()) await close();
  });
  return list;
}
