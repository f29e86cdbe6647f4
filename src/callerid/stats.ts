// Live statistics of caller IDs from their Redis hashes (pure): what the stats resource answers.
import type { CidBuckets } from './decide.ts';
import type { NumberHash } from './store.ts';

/** Live view of a number from its Redis hash. */
export function numberStat(
  number: string,
  h: NumberHash | undefined,
  now: number,
  b: Pick<CidBuckets, 'hour' | 'day'>,
) {
  const n = (k: string) => Number(h?.[k] ?? 0);
  const lim = (k: string) => (h?.[k] !== undefined && Number(h[k]) >= 0 ? Number(h[k]) : null);
  const usesHour = h?.hb === b.hour ? n('hc') : 0;
  const usesDay = h?.db === b.day ? n('dc') : 0;
  const hl = lim('hl');
  const dl = lim('dl');
  const hw = h?.hw ?? '';
  const ms = (k: string) => (n(k) > now ? new Date(n(k)).toISOString() : null);
  const pools = (h?.pools ?? '').split(',').filter(Boolean);
  return {
    number,
    pools,
    campaigns: pools,
    active: h?.a === '1',
    uses_hour: usesHour,
    hourly_limit: hl,
    uses_day: usesDay,
    daily_limit: dl,
    total: n('tot'),
    last_used_at: n('last') ? new Date(n('last')).toISOString() : null,
    reserved_until: ms('resv'),
    rested_until: ms('rest'),
    exhausted:
      dl !== null && usesDay >= dl
        ? ('daily' as const)
        : hl !== null && usesHour >= hl
          ? ('hourly' as const)
          : null,
    answered: n('ans'),
    unanswered: n('unans'),
    health: {
      calls: hw.length,
      answer_rate: hw.length ? [...hw].filter((c) => c === '1').length / hw.length : null,
    },
  };
}
export type NumberStat = ReturnType<typeof numberStat>;

export interface PoolStat {
  pool: string;
  numbers: number;
  available: number;
  cooling: number;
  reserved: number;
  exhausted_hourly: number;
  exhausted_daily: number;
  resting: number;
  uses_hour: number;
  uses_day: number;
}

/** A pool's figures before its numbers are counted in (`addToPool`). */
export const emptyPoolStat = (
  pool: string,
  numbers: number,
  sizes: { available: number; cooling: number },
) => ({
  pool,
  numbers,
  ...sizes,
  reserved: 0,
  exhausted_hourly: 0,
  exhausted_daily: 0,
  resting: 0,
  uses_hour: 0,
  uses_day: 0,
});

/** Counts one number of the pool into its figures. */
export function addToPool(s: PoolStat, st: NumberStat): void {
  if (st.reserved_until) s.reserved++;
  if (st.rested_until) s.resting++;
  if (st.exhausted === 'hourly') s.exhausted_hourly++;
  if (st.exhausted === 'daily') s.exhausted_daily++;
  s.uses_hour += st.uses_hour;
  s.uses_day += st.uses_day;
}
