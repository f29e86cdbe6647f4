// Long work on the event loop cut into slices: between two slices every timer, event and answer
// that waited gets its turn, so a pass over thousands of calls does not delay each of them by its
// whole length.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long a slice runs before it gives the loop back: a fraction of a call's routing budget. */
export const SLICE_MS = 5;

/**
 * `await slicer.due()` in a loop gives the event loop back (one turn, after pending I/O) once the
 * current slice has run SLICE_MS, and costs a clock read otherwise.
 */
export class Slicer {
  private since = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** Resolves at once within the slice; else after one turn of the event loop. */
  async due(): Promise<void> {
    if (performance.now() - this.since < this.sliceMs) return;
    await nextTurn();
    this.since = performance.now();
  }
}
