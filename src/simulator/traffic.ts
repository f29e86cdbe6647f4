// Inbound traffic for the simulator: calls at a rate to a set of DIDs from a set of caller numbers,
// each caller hanging up after a talk time drawn from a range. Reports what happened.
import type { Simulator } from './index.ts';

export interface TrafficOptions {
  ratePerS: number;
  durationS: number;
  dids: string[];
  callers: string[];
  talkMs: [number, number];
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
  const tickMs = 20;
  let credit = 0;
  let seq = 0;
  let stopped = false;
  const t0 = Date.now();
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
  // Whole calls per tick from a running credit of the time that really passed (a late timer on a
  // busy machine must not lower the offered rate), so fractional rates come out right over time.
  let last = t0;
  const timer = setInterval(() => {
    const now = Date.now();
    if (stopped || (o.durationS > 0 && now - t0 >= o.durationS * 1000)) return finish();
    credit += (o.ratePerS * (now - last)) / 1000;
    last = now;
    while (credit >= 1) {
      credit--;
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
    }
    report.maxLive = Math.max(report.maxLive, mine.size);
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
