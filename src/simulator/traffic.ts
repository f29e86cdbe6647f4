// Inbound traffic for the simulator: calls at a rate to a set of DIDs from a set of caller numbers,
// each caller hanging up after a talk time drawn from a range. Reports what happened.
import type { Simulator } from './index.ts';

export interface TrafficOptions {
  ratePerS: number;
  durationS: number;
  dids: string[];
  callers: string[];
  talkMs: [number, number];
  /**
   * How arrivals are spread in time. `poisson` (default): independent callers, as a trunk sees
   * them (with a duration, exactly rate x duration calls at uniformly random times, which is a
   * Poisson process given its count). `even`: one every 1/rate seconds. Either way calls are
   * placed one at a time, not in batches per timer tick.
   */
  arrivals?: 'poisson' | 'even';
  rand?: () => number;
}

export interface TrafficReport {
  started: number;
  answered: number;
  failedByCause: Record<string, number>;
  maxLive: number;
}

export function runTraffic(
  sim: Simulator,
  o: TrafficOptions,
  onTick?: (r: TrafficReport) => void,
): { done: Promise<TrafficReport>; stop(): void } {
  const rand = o.rand ?? Math.random;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const report: TrafficReport = { started: 0, answered: 0, failedByCause: {}, maxLive: 0 };
  const mine = new Set<string>();
  const onEvent = (_app: string, ev: { type: string; channel?: { id: string; state?: string } }) => {
    const id = ev.channel?.id;
    if (id && mine.has(id) && ev.type === 'ChannelStateChange' && ev.channel?.state === 'Up')
      report.answered++;
  };
  const onDestroyed = (id: string, cause: number) => {
    if (!mine.delete(id)) return;
    if (cause !== 16) report.failedByCause[String(cause)] = (report.failedByCause[String(cause)] ?? 0) + 1;
  };
  sim.events.on('ari-event', onEvent);
  sim.events.on('channel-destroyed', onDestroyed);
  // A 1 ms tick places each call within about a millisecond of its time (a 20 ms tick had placed
  // them in bursts, six at once at 300 calls/s, which no trunk does).
  const tickMs = 1;
  const t0 = Date.now();
  const arrivalAt = arrivalTimes(o, rand);
  let seq = 0;
  let stopped = false;
  let resolve!: (r: TrafficReport) => void;
  const done = new Promise<TrafficReport>((r) => {
    resolve = r;
  });
  const finish = () => {
    clearInterval(timer);
    clearInterval(ticker);
    sim.events.off('ari-event', onEvent);
    sim.events.off('channel-destroyed', onDestroyed);
    resolve(report);
  };
  // Every call whose time has come is placed, so a late timer on a busy machine never lowers the
  // offered rate.
  let next = arrivalAt(0);
  const timer = setInterval(() => {
    const elapsed = Date.now() - t0;
    while (!stopped && next !== null && next <= elapsed) {
      const talk = o.talkMs[0] + rand() * (o.talkMs[1] - o.talkMs[0]);
      const id = `traffic-${t0}-${++seq}`;
      mine.add(id); // before placing it: a call with no Stasis app is destroyed at once
      sim.placeInboundCall({
        did: pick(o.dids),
        callerNumber: pick(o.callers),
        hangupAfterMs: Math.round(talk),
        channelId: id,
      });
      report.started++;
      next = arrivalAt(seq);
    }
    report.maxLive = Math.max(report.maxLive, mine.size);
    if (stopped || (o.durationS > 0 && elapsed >= o.durationS * 1000)) finish();
  }, tickMs);
  const ticker = setInterval(() => onTick?.(report), 1000);
  ticker.unref();
  return {
    done,
    stop: () => {
      stopped = true;
    },
  };
}

/**
 * Arrival time (ms from the start) of call number k (0-based), or null when there are no more.
 * With a duration the count is fixed (rate x duration) so runs are comparable.
 */
function arrivalTimes(o: TrafficOptions, rand: () => number): (k: number) => number | null {
  const gapMs = 1000 / o.ratePerS;
  const exp = () => -Math.log(1 - rand()); // an exponential variate, mean 1
  if (o.durationS <= 0) {
    // Open-ended: exponential gaps (poisson) or fixed gaps (even), computed as they are needed.
    let at = 0;
    return (k) => {
      if (k === 0) at = 0;
      at += o.arrivals === 'even' ? gapMs : exp() * gapMs;
      return at;
    };
  }
  const n = Math.round(o.ratePerS * o.durationS);
  const spanMs = o.durationS * 1000;
  if (o.arrivals === 'even') return (k) => (k < n ? k * gapMs : null);
  // n uniform times in order: cumulative exponential gaps scaled to the span.
  const times = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += exp();
    times[i] = sum;
  }
  const scale = spanMs / (sum + exp());
  return (k) => (k < n ? times[k]! * scale : null);
}
