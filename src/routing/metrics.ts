// The routing domain's Prometheus metrics, registered once per daemon.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CallState } from './call.ts';

export class RoutingMetrics {
  readonly routed: Counter;
  readonly rejected: Counter;
  readonly decision: Histogram;
  readonly effectFailures: Counter;
  readonly releaseRetries: Counter;
  readonly answerRetries: Counter;
  readonly takenOver: Counter;
  readonly callState: Counter;
  readonly dataLost: Counter;
  readonly queueServed: Counter;
  readonly queueTurns: Counter;
  readonly queueJoinFailures: Counter;
  readonly queueHours: Counter;
  readonly cleanups: Counter;
  readonly bridgeAnswersLost: Counter;
  /** Hangups and bridge destroys not confirmed yet (set by the call runner). */
  cleanupPending: () => number = () => 0;
  readonly strays: Counter;
  readonly unseen: Counter;
  readonly shed: Counter;
  /** This process's event-loop delay as the shedding reads it (set by the routing module); none: not watched. */
  loop: (() => { delayMs: number; behind: boolean }) | null = null;

  constructor(registry: Registry, calls: () => Iterable<{ state: CallState }>, count: () => number) {
    this.routed = new Counter({
      name: 'capconduit_calls_routed_total',
      help: 'Inbound calls by final disposition',
      labelNames: ['disposition'],
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'capconduit_calls_rejected_total',
      help: 'Inbound calls rejected, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.decision = new Histogram({
      name: 'capconduit_routing_decision_seconds',
      help: 'StasisStart to client dial request',
      // Fine around the 10 ms objective, so its p99 reads off the buckets.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.009, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.1, 0.5],
      registers: [registry],
    });
    this.effectFailures = new Counter({
      name: 'capconduit_call_effect_failures_total',
      help: 'Steps of a call (REST request, slot operation, CDR) that failed; the call went on without them',
      labelNames: ['effect'],
      registers: [registry],
    });
    this.releaseRetries = new Counter({
      name: 'capconduit_slot_release_retries_total',
      help: 'Slot releases that failed (Redis unreachable) and were tried again later',
      registers: [registry],
    });
    this.answerRetries = new Counter({
      name: 'capconduit_slot_answer_retries_total',
      help: 'Answers of a slot (the use counted in caps and totals) that failed (Redis unreachable) and were tried again later',
      registers: [registry],
    });
    this.takenOver = new Counter({
      name: 'capconduit_calls_taken_over_total',
      help: 'Calls found in Asterisk without a living owner (a crashed instance) and taken over, by how they went on',
      labelNames: ['as'],
      registers: [registry],
    });
    this.callState = new Counter({
      name: 'capconduit_call_state_failures_total',
      help: "Writes of a live call's state to Redis (save, end, forget) that failed; the call went on without them",
      labelNames: ['op'],
      registers: [registry],
    });
    this.dataLost = new Counter({
      name: 'capconduit_redis_data_lost_total',
      help: "Times this instance found Redis without its data (FLUSHALL, a restart without persistence) and put back its live calls' slots",
      registers: [registry],
    });
    this.queueServed = new Counter({
      name: 'capconduit_queue_served_total',
      help: 'Waiting callers that took a freed slot, by what gave them the turn: a wake-up, the slow safety poll, or the look just after joining',
      labelNames: ['by'],
      registers: [registry],
    });
    this.queueTurns = new Counter({
      name: 'capconduit_queue_turns_total',
      help: 'Looks of waiting callers for a free slot (one Redis round trip each, two when first in line), by what gave them the turn',
      labelNames: ['by'],
      registers: [registry],
    });
    this.queueJoinFailures = new Counter({
      name: 'capconduit_queue_join_failures_total',
      help: 'Joins of a waiting caller to its hold-queue lines that failed (Redis unreachable); the caller kept waiting with the music on and joined at a later turn',
      registers: [registry],
    });
    this.queueHours = new Counter({
      name: 'capconduit_queue_hour_wakes_total',
      help: "New hours at which this instance's hold-queue waiters were due a turn, by who claimed the cluster's wake-up: here, another instance, or unknown (Redis away: the waiters here were turned)",
      labelNames: ['claimed'],
      registers: [registry],
    });
    this.cleanups = new Counter({
      name: 'capconduit_asterisk_cleanups_retried_total',
      help: 'Hangups and bridge destructions that got no answer from Asterisk (link down, timeout) and were tried again until it answered',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.bridgeAnswersLost = new Counter({
      name: 'capconduit_bridge_answers_lost_total',
      help: 'Bridge requests whose answer was lost (link cut); bridged: Asterisk had bridged the call and it went on, else both parties were hung up',
      labelNames: ['bridged'],
      registers: [registry],
    });
    this.strays = new Counter({
      name: 'capconduit_stray_channels_total',
      help: 'Channels found in our Stasis app that no call held (an event lost with the link, or a leg of a finished call), by what was done',
      labelNames: ['as'],
      registers: [registry],
    });
    this.unseen = new Counter({
      name: 'capconduit_unseen_calls_recorded_total',
      help: "Calls whose caller hung up in our app while no instance ran, recorded from Asterisk's own CDR",
      registers: [registry],
    });
    this.shed = new Counter({
      name: 'capconduit_calls_shed_total',
      help: 'Calls refused at once with congestion because a node (asterisk) or this process (event_loop) had fallen behind',
      labelNames: ['cause'],
      registers: [registry],
    });
    const self = this;
    new Gauge({
      name: 'capconduit_event_loop_delay_seconds',
      help: "This process's event-loop delay over the last window (p99), as the shedding of new calls reads it",
      registers: [registry],
      collect() {
        const l = self.loop?.();
        if (l) this.set(l.delayMs / 1000);
      },
    });
    new Gauge({
      name: 'capconduit_event_loop_behind',
      help: "1 while new calls are shed because this process's event loop is late (EVENT_LOOP_SHED_MS)",
      registers: [registry],
      collect() {
        const l = self.loop?.();
        if (l) this.set(l.behind ? 1 : 0);
      },
    });
    new Gauge({
      name: 'capconduit_asterisk_cleanups_pending',
      help: 'Hangups and bridge destroys asked of Asterisk and not confirmed yet (tried until they are)',
      registers: [registry],
      collect() {
        this.set(self.cleanupPending());
      },
    });
    new Gauge({
      name: 'capconduit_inbound_calls_in_progress',
      help: 'Inbound calls held by this instance',
      registers: [registry],
      collect() {
        this.set(count());
      },
    });
    new Gauge({
      name: 'capconduit_routing_slots_in_use',
      help: 'Link slots held by calls on this instance (a client leg dialled and not yet ended)',
      registers: [registry],
      collect() {
        let n = 0;
        for (const c of calls()) for (const a of c.state.attempts) if (!a.endedAt) n++;
        this.set(n);
      },
    });
  }
}
