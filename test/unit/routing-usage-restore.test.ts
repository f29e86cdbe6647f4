// After Redis lost its data, the totals are looked for again in the CDRs 15 s and 60 s later
// (usage-restore.ts). A daemon stopped meanwhile does no more of that work: its looks-again are
// cancelled (no timer left), and a run in progress at the stop is waited for, so nothing queries
// PostgreSQL, closed right after the modules, and nothing is logged as failed.
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CdrWriter } from '../../src/cdr/writer.ts';
import type { Db } from '../../src/platform/db.ts';
import type { DataLoss, SlotStore } from '../../src/routing/slots.ts';
import { capturingLogger } from '../helpers/log.ts';

const repo = vi.hoisted(() => ({
  usesThisPeriod: vi.fn(async () => [] as unknown[]),
  recoverLostAnswers: vi.fn(async () => 0),
}));
vi.mock('../../src/routing/repository.ts', () => repo);
const { restoreUsesOnDataLoss } = await import('../../src/routing/usage-restore.ts');

function setup() {
  const handlers: Array<(loss: DataLoss) => Promise<void>> = [];
  const slots = {
    onDataLost: (h: (loss: DataLoss) => Promise<void>) => handlers.push(h),
    addUses: vi.fn(async () => {}),
  } as unknown as SlotStore;
  const cdr = { flush: vi.fn(async () => {}) } as unknown as CdrWriter;
  const { log, lines } = capturingLogger('warn');
  const restore = restoreUsesOnDataLoss({
    db: {} as Db,
    slots,
    cdr,
    log,
    metrics: new Registry(),
    defaultTimezone: 'UTC',
  });
  const lose = () => Promise.all(handlers.map((h) => h({ marked: true, at: Date.now() })));
  const errors = () => lines.filter((l) => JSON.parse(l).level >= 50);
  return { restore, lose, errors };
}

describe('putting uses back after a Redis loss, and a stop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    repo.usesThisPeriod.mockClear();
    repo.recoverLostAnswers.mockClear();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('without a stop, looks for the totals again 15 s and 60 s after the loss', async () => {
    const { lose } = setup();
    await lose();
    expect(repo.recoverLostAnswers).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(repo.recoverLostAnswers).toHaveBeenCalledTimes(3);
  });

  it('stopped right after a loss: no look-again, no timer left, nothing logged as failed', async () => {
    const { restore, lose, errors } = setup();
    await lose();
    expect(repo.recoverLostAnswers).toHaveBeenCalledTimes(1);
    await restore.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(repo.recoverLostAnswers).toHaveBeenCalledTimes(1);
    expect(errors()).toEqual([]);
  });

  it('stopped while the first run is in progress: the stop waits for it, and schedules nothing', async () => {
    let release!: () => void;
    repo.usesThisPeriod.mockImplementationOnce(() => new Promise<unknown[]>((r) => (release = () => r([]))));
    const { restore, lose } = setup();
    const lost = lose();
    await vi.waitFor(() => expect(repo.usesThisPeriod).toHaveBeenCalled());
    let stopped = false;
    const stop = restore.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await Promise.all([stop, lost]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(repo.recoverLostAnswers).toHaveBeenCalledTimes(1);
  });

  it('a loss noticed after the stop does nothing', async () => {
    const { restore, lose } = setup();
    await restore.stop();
    await lose();
    expect(repo.usesThisPeriod).not.toHaveBeenCalled();
    expect(repo.recoverLostAnswers).not.toHaveBeenCalled();
  });
});
