import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { corkUntilTurnEnds } from '../../src/net/cork.ts';

/** A stream that records each syscall-sized batch it is handed (one _writev or _write call each). */
function recorder() {
  const batches: string[][] = [];
  const s = new Writable({
    write(chunk: Buffer, _enc, cb) {
      batches.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { s, batches };
}

const turnEnd = () => new Promise((r) => setImmediate(r));

describe('corkUntilTurnEnds', () => {
  it('holds every write of a turn and lets them go together when the turn ends', async () => {
    const { s, batches } = recorder();
    for (let i = 0; i < 5; i++) {
      corkUntilTurnEnds(s);
      s.write(String(i));
    }
    expect(batches).toEqual([]);
    await turnEnd();
    expect(batches).toEqual([['0', '1', '2', '3', '4']]);
  });

  it('with maxHeld lets a full batch go at once and holds the rest to the turn end', async () => {
    const { s, batches } = recorder();
    for (let i = 0; i < 10; i++) {
      corkUntilTurnEnds(s, 4);
      s.write(String(i));
    }
    // The 5th and 9th writes found 4 held: those left before them, in order.
    expect(batches).toEqual([
      ['0', '1', '2', '3'],
      ['4', '5', '6', '7'],
    ]);
    await turnEnd();
    expect(batches.at(-1)).toEqual(['8', '9']);
    expect(batches.flat()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    // The next turn starts a batch of its own.
    corkUntilTurnEnds(s, 4);
    s.write('a');
    expect(batches).toHaveLength(3);
    await turnEnd();
    expect(batches.at(-1)).toEqual(['a']);
  });
});
