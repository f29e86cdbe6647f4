// This instance's hold-queue waiters: a wake-up gives a turn to the oldest local waiter of the
// campaign it concerns, wake-ups arriving during a turn make exactly one more, and the wake-up
// subscription is on exactly while someone waits here.
import { describe, expect, it } from 'vitest';
import { parseWake } from '../../src/routing/queue.ts';
import { QueueWaiters } from '../../src/routing/queue-waiters.ts';

function setup() {
  const turns: string[] = [];
  const listening: boolean[] = [];
  let release: (() => void) | null = null;
  let hold = false;
  const w = new QueueWaiters(
    async (callId, cause) => {
      turns.push(`${callId}:${cause}`);
      if (hold) await new Promise<void>((r) => (release = r));
    },
    (on) => listening.push(on),
  );
  return {
    w,
    turns,
    listening,
    hold: (on: boolean) => {
      hold = on;
    },
    finish: async () => {
      const r = release;
      release = null;
      r?.();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('hold queue waiters', () => {
  it('a freed link wakes the oldest local waiter of its campaign only; other campaigns and links are left alone', () => {
    const t = setup();
    t.w.add('c1', 'call-a', ['l1', 'l2']);
    t.w.add('c1', 'call-b', ['l1', 'l2']);
    t.w.add('c2', 'call-c', ['l3']);
    t.w.wake({ linkId: 'l2' });
    t.w.wake({ linkId: 'l9' });
    expect(t.turns).toEqual(['call-a:wake']);
  });

  it('the campaign whose queue moved wakes its oldest; when it leaves, the next one is the oldest', async () => {
    const t = setup();
    t.w.add('c1', 'call-a', ['l1']);
    t.w.add('c1', 'call-b', ['l1']);
    t.w.remove('c1', 'call-a');
    await new Promise((r) => setImmediate(r));
    t.w.wake({ campaignId: 'c1' });
    expect(t.turns).toEqual(['call-b:wake']);
  });

  it('wake-ups during a turn make one more turn after it, not one each', async () => {
    const t = setup();
    t.hold(true);
    t.w.add('c1', 'call-a', ['l1']);
    t.w.wake({ linkId: 'l1' });
    t.w.wake({ linkId: 'l1' });
    t.w.wake({ campaignId: 'c1' });
    expect(t.turns).toEqual(['call-a:wake']);
    t.hold(false);
    await t.finish();
    expect(t.turns).toEqual(['call-a:wake', 'call-a:wake']);
    await t.finish();
    expect(t.turns).toHaveLength(2);
  });

  it('listens while someone waits here, and only then', () => {
    const t = setup();
    t.w.add('c1', 'call-a', ['l1']);
    t.w.add('c2', 'call-b', ['l2']);
    t.w.remove('c1', 'call-a');
    t.w.remove('c1', 'call-a');
    expect(t.listening).toEqual([true]);
    t.w.remove('c2', 'call-b');
    expect(t.listening).toEqual([true, false]);
    t.w.wake({ linkId: 'l2' });
    expect(t.turns).toEqual([]);
    expect(t.w.size).toBe(0);
  });

  it('reads the messages the release script and a leaving call publish, and nothing else', () => {
    expect(parseWake('l:abc')).toEqual({ linkId: 'abc' });
    expect(parseWake('c:xyz')).toEqual({ campaignId: 'xyz' });
    expect(parseWake('hello')).toBeNull();
  });
});
