// The `asterisk` daemon module: one ARI + one AMI link per configured node, their health in
// /ready and /metrics, and a small subscription API for the modules that own calls.
import type { ReadinessCheck } from '../platform/http/context.ts';
import type { AsteriskNodeConfig } from '../config.ts';
import type { DaemonContext, DaemonModule } from '../platform/module.ts';
import { type AmiEvent, AmiClient } from './ami.ts';
import { AriClient } from './ari.ts';
import { asteriskMetrics, oldestWaitMs } from './metrics.ts';
import type { AnyAriEvent, AriChannel, AriEvent } from './types.ts';

export { AmiClient, AmiValueError, AmiActionError, AmiDisconnectedError, AmiTimeoutError } from './ami.ts';
export {
  AriClient,
  AriDisconnectedError,
  AriError,
  AriNoAnswerError,
  AriTimeoutError,
  type AriLoad,
} from './ari.ts';
export { oldestWaitMs } from './metrics.ts';
export { KeyedQueue } from './ordered.ts';
export type * from './types.ts';

export interface AsteriskNode {
  id: string;
  ari: AriClient;
  ami: AmiClient;
  health(): NodeHealth;
  /**
   * True when the node is behind (ARI requests queued or unanswered beyond their bound): new calls
   * should be shed (or sent elsewhere) rather than queued into time-outs.
   */
  overloaded(): boolean;
}

export interface NodeHealth {
  id: string;
  ari: {
    connected: boolean;
    reconnects: number;
    lastEventAt: string | null;
    lagMs: number;
    error: string | null;
    replaced: boolean;
    /** Milliseconds since the last pong on the events WebSocket (null: none yet). */
    pongAgeMs: number | null;
    /** Milliseconds since the last event (null: none yet). */
    eventAgeMs: number | null;
    /** REST requests in flight and queued per transport. */
    requests: {
      http: { inFlight: number; queued: number };
      websocket: { inFlight: number; queued: number };
      oldestWaitMs: number;
    };
    overloaded: boolean;
  };
  ami: {
    connected: boolean;
    reconnects: number;
    lastEventAt: string | null;
    error: string | null;
    /** What the node was asked to send: event names, 'off', or 'all' (no filter). */
    events: string;
  };
}

type StasisStart = Extract<AriEvent, { type: 'StasisStart' }>;
export type StasisStartHandler = (nodeId: string, ev: StasisStart) => void;

export interface AsteriskModule extends DaemonModule {
  name: 'asterisk';
  nodes: Map<string, AsteriskNode>;
  /** The Stasis app names this instance registers (shared name + per-instance name). */
  apps: string[];
  /**
   * Every ARI event, or (with `types`) the types the handler acts on: types no handler names are
   * filtered out at the node, which then never builds or sends them.
   */
  onAriEvent(h: (nodeId: string, ev: AnyAriEvent) => void, types?: string[]): void;
  /** `types`: the AMI event names the handler acts on (the node is asked for no others); none: every event. */
  onAmiEvent(h: (nodeId: string, ev: AmiEvent) => void, types?: string[]): void;
  /** Live channels after each (re)connect; `listedAt` is when the list was asked for. */
  onResync(h: (nodeId: string, channels: AriChannel[], listedAt: number) => void): void;
  /** StasisStart by its first arg ('inbound', 'outbound', ...; '*' for anything else). */
  onStasisStart(kind: string, h: StasisStartHandler): void;
}

/**
 * The app name an instance registers. Asterisk gives an app name to one WebSocket only, so
 * instances sharing a node each hold their own name and take calls by StasisBroadcast claim.
 */
export function stasisApps(app: string, instanceId: string, broadcast: boolean): string[] {
  return broadcast ? [`${app}-${instanceId}`] : [app];
}

/**
 * Event types a call produces that nothing here may need: the candidates for the node-side filter.
 * StasisStart and ApplicationReplaced are never filtered (the module and the client act on them).
 */
export const FILTERABLE_ARI_EVENTS = [
  'BridgeAttendedTransfer',
  'BridgeBlindTransfer',
  'BridgeCreated',
  'BridgeDestroyed',
  'BridgeMerged',
  'BridgeVideoSourceChanged',
  'ChannelCallerId',
  'ChannelConnectedLine',
  'ChannelCreated',
  'ChannelDestroyed',
  'ChannelDialplan',
  'ChannelDtmfReceived',
  'ChannelEnteredBridge',
  'ChannelHangupRequest',
  'ChannelHold',
  'ChannelLeftBridge',
  'ChannelStateChange',
  'ChannelTalkingFinished',
  'ChannelTalkingStarted',
  'ChannelToneDetected',
  'ChannelUnhold',
  'ChannelUserevent',
  'ChannelVarset',
  'ContactStatusChange',
  'DeviceStateChanged',
  'Dial',
  'EndpointStateChange',
  'PeerStatusChange',
  'PlaybackContinuing',
  'PlaybackFinished',
  'PlaybackStarted',
  'RecordingFailed',
  'RecordingFinished',
  'RecordingStarted',
  'StasisEnd',
  'TextMessageReceived',
];

/** The filterable types no handler wants; none when some handler wants every event. */
export function disallowedAriEvents(wanted: Array<string[] | undefined>): string[] {
  if (wanted.some((w) => w === undefined)) return [];
  const keep = new Set(wanted.flat());
  return FILTERABLE_ARI_EVENTS.filter((t) => !keep.has(t));
}

/** The AMI event names to ask a node for: null (all) when some handler wants every event. */
export function wantedAmiEvents(wanted: Array<string[] | undefined>): string[] | null {
  if (wanted.some((w) => w === undefined)) return null;
  return [...new Set(wanted.flat() as string[])].sort();
}

export function createAsteriskModule(ctx: DaemonContext): AsteriskModule {
  const { config, log, metrics } = ctx;
  const apps = stasisApps(config.STASIS_APP, config.INSTANCE_ID, config.STASIS_BROADCAST);
  const nodes = new Map<string, AsteriskNode>();
  const ariHandlers: Array<(n: string, e: AnyAriEvent) => void> = [];
  const ariWanted: Array<string[] | undefined> = [];
  const amiHandlers: Array<(n: string, e: AmiEvent) => void> = [];
  const amiWanted: Array<string[] | undefined> = [];
  const resyncHandlers: Array<(n: string, c: AriChannel[], listedAt: number) => void> = [];
  const stasisHandlers = new Map<string, StasisStartHandler>();

  const { up, reconnects } = asteriskMetrics(metrics, nodes);

  const safe = <A extends unknown[]>(what: string, f: (...a: A) => void, ...a: A) => {
    try {
      f(...a);
    } catch (err) {
      log.error({ err, what }, 'asterisk event handler threw');
    }
  };

  const makeNode = (n: AsteriskNodeConfig): AsteriskNode => {
    const nlog = log.child({ node: n.id });
    const ari = new AriClient({
      url: n.ariUrl,
      user: n.ariUser,
      password: n.ariPassword,
      apps,
      log: nlog,
      transport: config.ASTERISK_ARI_TRANSPORT,
      disallowedEvents: () => disallowedAriEvents(ariWanted),
      httpMaxSockets: config.ASTERISK_ARI_HTTP_MAX_SOCKETS,
      cleanupMaxSockets: config.ASTERISK_ARI_CLEANUP_MAX_SOCKETS,
      timeoutMs: config.ASTERISK_ARI_TIMEOUT_MS,
      wsMaxInFlight: config.ASTERISK_ARI_WS_MAX_IN_FLIGHT,
      overloadWaitMs: config.ASTERISK_ARI_OVERLOAD_WAIT_MS,
      pingIntervalMs: config.ASTERISK_ARI_PING_INTERVAL_MS,
      pongTimeoutMs: config.ASTERISK_ARI_PONG_TIMEOUT_MS,
    });
    const ami = new AmiClient({
      host: n.amiHost,
      port: n.amiPort,
      user: n.amiUser,
      secret: n.amiSecret,
      log: nlog,
      eventNames: () => wantedAmiEvents(amiWanted),
    });
    ari.on('connected', () => {
      up.set({ node: n.id, link: 'ari' }, 1);
      if (ari.reconnects > 0) reconnects.inc({ node: n.id, link: 'ari' });
    });
    ari.on('disconnected', () => up.set({ node: n.id, link: 'ari' }, 0));
    ami.on('connected', () => {
      up.set({ node: n.id, link: 'ami' }, 1);
      if (ami.reconnects > 0) reconnects.inc({ node: n.id, link: 'ami' });
    });
    ami.on('disconnected', () => up.set({ node: n.id, link: 'ami' }, 0));
    ari.on('event', (ev: AnyAriEvent) => {
      for (const h of ariHandlers) safe('ari', h, n.id, ev);
      if (ev.type === 'StasisStart') {
        const s = ev as StasisStart;
        const h = stasisHandlers.get(s.args?.[0] ?? '') ?? stasisHandlers.get('*');
        if (h) safe('stasis', h, n.id, s);
      }
    });
    ari.on('resync', (channels: AriChannel[], listedAt: number) => {
      for (const h of resyncHandlers) safe('resync', h, n.id, channels, listedAt);
    });
    ami.on('event', (ev: AmiEvent) => {
      for (const h of amiHandlers) safe('ami', h, n.id, ev);
    });
    const iso = (t: number) => (t ? new Date(t).toISOString() : null);
    const age = (t: number, now: number) => (t ? Math.max(0, now - t) : null);
    return {
      id: n.id,
      ari,
      ami,
      overloaded: () => ari.overloaded(),
      health: () => {
        const now = Date.now();
        const load = ari.load(now);
        return {
          id: n.id,
          ari: {
            connected: ari.connected,
            reconnects: ari.reconnects,
            lastEventAt: iso(ari.lastEventAt),
            lagMs: ari.lastLagMs,
            error: ari.lastError,
            replaced: ari.replaced,
            pongAgeMs: age(ari.lastPongAt, now),
            eventAgeMs: age(ari.lastEventAt, now),
            requests: {
              http: { inFlight: load.http.inFlight, queued: load.http.queued },
              websocket: { inFlight: load.websocket.inFlight, queued: load.websocket.queued },
              oldestWaitMs: oldestWaitMs(load),
            },
            overloaded: load.overloaded,
          },
          ami: {
            connected: ami.connected,
            reconnects: ami.reconnects,
            lastEventAt: iso(ami.lastEventAt),
            error: ami.lastError,
            events: ami.eventFilter ?? 'all',
          },
        };
      },
    };
  };

  for (const n of config.asteriskNodes) nodes.set(n.id, makeNode(n));

  // A node is usable while its ARI link is up, ours and alive; /ready fails only when none is.
  // AMI down (PBX reloads, dialer originates) or a node shedding calls degrades without failing.
  const readiness: ReadinessCheck[] = [...nodes.values()].flatMap((node): ReadinessCheck[] => [
    {
      name: `asterisk:${node.id}`,
      group: 'asterisk',
      check: async () => {
        const h = node.health();
        const problems = [
          !h.ari.connected && `ARI ${h.ari.error ?? 'not connected'}`,
          h.ari.replaced && 'Stasis app taken over by another connection',
        ].filter(Boolean);
        if (problems.length) throw new Error(problems.join('; '));
      },
    },
    {
      name: `asterisk:${node.id}:ami`,
      critical: false,
      check: async () => {
        const h = node.health();
        if (!h.ami.connected) throw new Error(`AMI ${h.ami.error ?? 'not connected'}`);
      },
    },
    {
      name: `asterisk:${node.id}:load`,
      critical: false,
      check: async () => {
        const h = node.health();
        if (h.ari.overloaded)
          throw new Error(
            `shedding new calls: a request has waited ${h.ari.requests.oldestWaitMs ?? '?'} ms (link alive: pong ${h.ari.pongAgeMs ?? '?'} ms ago)`,
          );
      },
    },
  ]);

  return {
    name: 'asterisk',
    nodes,
    apps,
    readiness,
    onAriEvent: (h, types) => {
      ariHandlers.push(h);
      ariWanted.push(types);
    },
    onAmiEvent: (h, types) => {
      amiHandlers.push(h);
      amiWanted.push(types);
    },
    onResync: (h) => void resyncHandlers.push(h),
    onStasisStart: (kind, h) => void stasisHandlers.set(kind, h),
    async start() {
      if (nodes.size === 0) {
        log.info('no Asterisk nodes configured: API only');
        return;
      }
      for (const n of nodes.values()) {
        n.ari.start();
        n.ami.start();
      }
      log.info({ nodes: [...nodes.keys()], apps }, 'connecting to Asterisk nodes');
    },
    async stop() {
      await Promise.all([...nodes.values()].flatMap((n) => [n.ari.stop(), n.ami.stop()]));
    },
  };
}
