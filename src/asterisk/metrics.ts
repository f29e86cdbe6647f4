// The asterisk module's metrics: link state and events per node, and ARI back-pressure and link
// liveness. Most are read at scrape time: setting labelled gauges on every event was measurable on
// the hot path.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AmiClient } from './ami.ts';
import type { AriClient, AriLoad } from './ari.ts';

interface NodeLinks {
  id: string;
  ari: AriClient;
  ami: AmiClient;
}

/** The longest a request of the node has waited, queued or unanswered, on either transport. */
export function oldestWaitMs(l: AriLoad): number {
  return Math.max(
    l.http.oldestWaitMs,
    l.http.oldestInFlightMs,
    l.websocket.oldestWaitMs,
    l.websocket.oldestInFlightMs,
  );
}

/** Registers the metrics; `up` and `reconnects` are set by the module on link changes. */
export function asteriskMetrics(metrics: Registry, nodes: Map<string, NodeLinks>) {
  const up = new Gauge({
    name: 'capconduit_asterisk_link_up',
    help: '1 when the link to the node is up',
    labelNames: ['node', 'link'],
    registers: [metrics],
  });
  const reconnects = new Counter({
    name: 'capconduit_asterisk_reconnects_total',
    help: 'Reconnections per node and link',
    labelNames: ['node', 'link'],
    registers: [metrics],
  });
  new Gauge({
    name: 'capconduit_asterisk_last_event_timestamp_seconds',
    help: 'Unix time of the last event received',
    labelNames: ['node', 'link'],
    registers: [metrics],
    collect() {
      for (const n of nodes.values()) {
        if (n.ari.lastEventAt) this.set({ node: n.id, link: 'ari' }, n.ari.lastEventAt / 1000);
        if (n.ami.lastEventAt) this.set({ node: n.id, link: 'ami' }, n.ami.lastEventAt / 1000);
      }
    },
  });
  new Gauge({
    name: 'capconduit_asterisk_event_lag_seconds',
    help: 'Delay between an ARI event timestamp and its arrival (last event)',
    labelNames: ['node'],
    registers: [metrics],
    collect() {
      for (const n of nodes.values()) this.set({ node: n.id }, n.ari.lastLagMs / 1000);
    },
  });
  new Counter({
    name: 'capconduit_asterisk_events_total',
    help: 'Events received per node and link',
    labelNames: ['node', 'link'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const n of nodes.values()) {
        this.inc({ node: n.id, link: 'ari' }, n.ari.eventsReceived);
        this.inc({ node: n.id, link: 'ami' }, n.ami.eventsReceived);
      }
    },
  });

  // ARI back-pressure and link liveness, read at scrape time.
  const transports = ['http', 'websocket', 'cleanup'] as const;
  new Gauge({
    name: 'capconduit_asterisk_ari_requests_in_flight',
    help: 'ARI REST requests sent and not yet answered, per node and transport',
    labelNames: ['node', 'transport'],
    registers: [metrics],
    collect() {
      for (const n of nodes.values()) {
        const l = n.ari.load();
        for (const t of transports) this.set({ node: n.id, transport: t }, l[t].inFlight);
      }
    },
  });
  new Gauge({
    name: 'capconduit_asterisk_ari_requests_queued',
    help: 'ARI REST requests waiting for a free slot, per node and transport',
    labelNames: ['node', 'transport'],
    registers: [metrics],
    collect() {
      for (const n of nodes.values()) {
        const l = n.ari.load();
        for (const t of transports) this.set({ node: n.id, transport: t }, l[t].queued);
      }
    },
  });
  new Gauge({
    name: 'capconduit_asterisk_ari_oldest_wait_seconds',
    help: 'Longest wait of an ARI request still queued or unanswered, per node',
    labelNames: ['node'],
    registers: [metrics],
    collect() {
      for (const n of nodes.values()) this.set({ node: n.id }, oldestWaitMs(n.ari.load()) / 1000);
    },
  });
  new Gauge({
    name: 'capconduit_asterisk_overloaded',
    help: '1 while the node is behind (requests queued or unanswered beyond the bound): new calls are shed',
    labelNames: ['node'],
    registers: [metrics],
    collect() {
      for (const n of nodes.values()) this.set({ node: n.id }, n.ari.load().overloaded ? 1 : 0);
    },
  });
  new Counter({
    name: 'capconduit_asterisk_ari_requests_total',
    help: 'ARI REST requests sent, per node and transport',
    labelNames: ['node', 'transport'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const n of nodes.values()) {
        const t = n.ari.requestsSent;
        this.inc({ node: n.id, transport: 'http' }, t.http);
        this.inc({ node: n.id, transport: 'websocket' }, t.websocket);
        this.inc({ node: n.id, transport: 'cleanup' }, n.ari.cleanupRequests.sent);
      }
    },
  });
  new Counter({
    name: 'capconduit_asterisk_cleanups_over_websocket_total',
    help: 'Hangups and bridge destroys sent over the events WebSocket instead of the cleanup lane, because the WebSocket was idle or the lane full (counted in the websocket transport too)',
    labelNames: ['node', 'reason'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const n of nodes.values()) {
        const c = n.ari.cleanupRequests;
        this.inc({ node: n.id, reason: 'idle' }, c.overWebSocket - c.laneFull);
        this.inc({ node: n.id, reason: 'lane_full' }, c.laneFull);
      }
    },
  });
  new Counter({
    name: 'capconduit_asterisk_ari_request_timeouts_total',
    help: 'ARI REST requests that got no answer within their bound (the outcome is unknown)',
    labelNames: ['node', 'transport'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const n of nodes.values()) {
        const t = n.ari.timeouts;
        this.inc({ node: n.id, transport: 'http' }, t.http);
        this.inc({ node: n.id, transport: 'websocket' }, t.websocket);
        this.inc({ node: n.id, transport: 'cleanup' }, n.ari.cleanupRequests.timeouts);
      }
    },
  });
  new Gauge({
    name: 'capconduit_asterisk_ari_last_pong_timestamp_seconds',
    help: 'Unix time of the last pong on the events WebSocket',
    labelNames: ['node'],
    registers: [metrics],
    collect() {
      for (const n of nodes.values()) if (n.ari.lastPongAt) this.set({ node: n.id }, n.ari.lastPongAt / 1000);
    },
  });
  new Counter({
    name: 'capconduit_asterisk_ari_silent_drops_total',
    help: 'Events WebSockets dropped because they went silent (no pong within the bound)',
    labelNames: ['node'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const n of nodes.values()) this.inc({ node: n.id }, n.ari.silentDrops);
    },
  });

  return { up, reconnects };
}
