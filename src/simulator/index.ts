// The Asterisk simulator: ARI (HTTP + WebSocket) and AMI (TCP) on loopback, over one model of
// channels and bridges. Used by the tests, the demo and the benchmarks; see README "Simulator"
// for what of Asterisk it models and what it does not.
// Why over 400 lines: it is the simulator's whole public surface (the Simulator interface every test
// drives, each member documented) and the one start function that wires the model, the ARI and AMI
// servers, the dialplan and PJSIP to each other; its closures share those servers, which restart()
// replaces and stop() closes in order. What each part does lives in its own folder (ari/, ami/, ...).
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { AddressInfo, Socket } from 'node:net';
import { AmiServer } from './ami/server.ts';
import { loadCdrManager } from './ami/cdr.ts';
import type { AmiUserOptions } from './ami/user.ts';
import { storedName } from './ami/mixmonitor.ts';
import type { QueueConfig } from './ami/queues.ts';
import { AriServer } from './ari/server.ts';
import { followCdrs, loadCdrSettings, pgsqlBackend } from './cdr.ts';
import { findExtension, findHint, loadDialplan } from './dialplan.ts';
import { createInterpreter } from './interpreter.ts';
import { type Crash, resolveLimits, type SimulatorLimits } from './limits.ts';
import { type EndpointBehaviour, SimModel } from './model.ts';
import { newUniqueId, originate } from './originate.ts';
import { PjsipDirectory } from './pjsip/directory.ts';
import { type Registration, registerContact, unregisterContact } from './pjsip/registrar.ts';

export type { EndpointBehaviour } from './model.ts';
export type { Crash, SimulatorLimits } from './limits.ts';
export type { AsteriskCdr } from './cdr.ts';

export const DEFAULT_DIALPLAN = fileURLToPath(new URL('../../asterisk/extensions.conf', import.meta.url));

export interface SimulatorOptions {
  host?: string;
  ariPort?: number;
  amiPort?: number;
  user?: string;
  password?: string;
  endpoints?: Record<string, EndpointBehaviour>;
  channelVars?: string[];
  asteriskId?: string;
  badLoginDelayMs?: number;
  /** Overrides the StasisBroadcast claim window of the dialplan (ms). */
  broadcastTimeoutMs?: number;
  /** extensions.conf to run (default: the project's asterisk/extensions.conf). */
  dialplanPath?: string;
  /** When set, PJSIP endpoints also come from the `ps_endpoints` realtime table, as res_config_pgsql reads them. */
  databaseUrl?: string;
  /** Asterisk's limits under load (limits.ts); each is on, at Asterisk's default, unless changed here. */
  limits?: Partial<SimulatorLimits>;
  /**
   * cdr_pgsql: every channel's CDR is written into this database, in the table and with the
   * settings of cdr.conf and cdr_pgsql.conf beside the dialplan (the project's asterisk/ folder).
   * Unset: CDRs are only emitted (`events` 'cdr'), as with no CDR backend loaded.
   */
  cdrDatabaseUrl?: string;
  /** The manager user's ACL and multiple-login setting, AMI's authlimit and authtimeout (ami/user.ts). */
  ami?: AmiUserOptions;
  /** app_queue's static queues and members (queues.conf); none by default (ami/queues.ts). */
  queues?: QueueConfig[];
  /**
   * cdr_manager (AMI Cdr events): by default as cdr_manager.conf beside the dialplan says (no
   * file: off, as in a stock Asterisk); given here, instead of the file.
   */
  cdrManager?: { enabled: boolean; mappings?: Array<[string, string]> };
}

export interface Simulator {
  ariUrl: string;
  ariPort: number;
  amiPort: number;
  setEndpoint(name: string, b: EndpointBehaviour): void;
  removeEndpoint(name: string): void;
  hangup(channelId: string, cause?: number): void;
  liveChannels(): Array<{ id: string; name: string; state: string } & Record<string, unknown>>;
  /** What the party on a channel hears (null: no such channel): ringing and music go on without the app. */
  hears(channelId: string): 'bridge' | 'music' | 'ringing' | 'silence' | null;
  /** How many channels are up whose name starts with `prefix` (cheap: no JSON built). */
  channelCount(prefix?: string): number;
  /**
   * The far end of a channel presses `digits`, one after another (each held `durationMs`, 100 ms
   * apart): the channel receives them as DTMF (ARI ChannelDtmfReceived; a recording whose
   * terminateOn matches ends).
   */
  pressDigits(channelId: string, digits: string, durationMs?: number): void;
  /** The far end of a channel falls silent (or talks again): a recording's maxSilenceSeconds hears it. */
  setFarEndSilent(channelId: string, silent: boolean): void;
  /**
   * A phone registers a contact (res_pjsip_registrar: the `ps_contacts` row, ContactStatus, and
   * the endpoint's PeerStatus, EndpointStateChange and device state when it comes online); needs a
   * database. Resolves with the contact's id. `unregisterContact` ends it (also at its expiry).
   */
  registerContact(r: Registration): Promise<string>;
  unregisterContact(r: Registration): Promise<boolean>;
  placeInboundCall(o: {
    channelId?: string;
    did: string;
    callerNumber: string;
    callerName?: string;
    hangupAfterMs?: number;
    context?: string;
  }): string;
  dropWebSockets(): void;
  /** A file a MixMonitor wrote (by its full path), with its format and length; an ARI stored one too. */
  recordedFile(path: string): { format: string; durationS: number } | undefined;
  /**
   * REST requests over the events WebSockets wait unserved (Asterisk behind on its WebSocket
   * threads) until the returned function is called; events and HTTP go on. For load tests. With
   * `from`, the line stops only once a request it matches (method, uri) reaches its head.
   */
  stallWebSocketRequests(o?: { from?: (method: string, uri: string) => boolean }): () => void;
  dropAmi(): void;
  /** The model's listeners, every event together (a restart replaces its servers' own; it adds none). */
  listenerCount(): number;
  /** Asterisk's log lines for what it warns about and goes on (the last 100), oldest first. */
  logged(): Array<{ level: string; message: string }>;
  /** Brings the simulator back up (after a crash too), losing its channels unless `keepChannels`. */
  restart(o?: { keepChannels?: boolean; downMs?: number }): Promise<void>;
  /** Set when the simulator died as Asterisk would (a frame over its stack); cleared by restart(). */
  readonly crashed: Crash | null;
  /** HTTP sessions open now and at most so far (WebSockets included), and connections refused for the limit. */
  httpSessions(): { open: number; peak: number; refused: number };
  readonly limits: SimulatorLimits;
  stop(): Promise<void>;
  events: EventEmitter;
  /** Inbound calls that found no Stasis app (dialplan STASISSTATUS=FAILED). Events: `ari-event`,
   * `channel-destroyed`, `crashed` (a Crash), `session-refused`, `cdr` (an AsteriskCdr). */
  stats: { inbound: number; stasisFailed: number; broadcastTimeouts: number };
}

export async function startSimulator(o: SimulatorOptions = {}): Promise<Simulator> {
  const host = o.host ?? '127.0.0.1';
  const user = o.user ?? 'asterisk';
  const password = o.password ?? 'asterisk';
  const model = new SimModel(
    o.asteriskId ?? '02:42:ac:11:00:02',
    o.channelVars ?? ['CAPCONDUIT_CALL_ID', 'CAPCONDUIT_OWNER', 'CAPCONDUIT_CALLER'],
  );
  for (const [k, v] of Object.entries(o.endpoints ?? {})) model.endpoints.set(k, v);
  const events = new EventEmitter();
  model.on('ari-event', (app, ev) => events.emit('ari-event', app, ev));
  // Every channel's end, whether or not an app was watching it (traffic reports use this).
  model.on('channel-destroyed', (c: { id: string }, cause: number) =>
    events.emit('channel-destroyed', c.id, cause),
  );
  model.on('cdr', (cdr) => events.emit('cdr', cdr));
  const stats = { inbound: 0, stasisFailed: 0, broadcastTimeouts: 0 };
  const dialplanPath = o.dialplanPath ?? DEFAULT_DIALPLAN;
  const dialplan = loadDialplan(dialplanPath);
  // Asterisk's CDR engine runs whatever backends are loaded: records are built for every channel.
  const cdrSettings = loadCdrSettings(dirname(dialplanPath));
  const cdrs = followCdrs(model, cdrSettings);
  const cdrBackend = o.cdrDatabaseUrl ? await pgsqlBackend(model, o.cdrDatabaseUrl, cdrSettings.table) : null;
  const cdrManager = o.cdrManager
    ? { enabled: o.cdrManager.enabled, mappings: o.cdrManager.mappings ?? [] }
    : loadCdrManager(dirname(dialplanPath));
  for (const [k, v] of Object.entries(dialplan.globals)) model.globals.set(k, v);
  // Realtime endpoints: looked up in the ps_* tables on each use (no sorcery cache), so a row
  // written by the daemon is dialable at once. Like chan_pjsip, a dial needs somewhere to send the
  // INVITE: one of the endpoint's AORs must have a static contact (ps_aors.contact) or a registered
  // one in ps_contacts (ids `<aor>^3B@<hash>`: Asterisk 22's realtime stores the `;` of
  // `<aor>;@<hash>` escaped; the unescaped form is accepted too); an endpoint with no AOR or no
  // contact fails as an unknown one does (Asterisk logs "Could not create dialog to invalid URI ...
  // Is endpoint registered and reachable?" and the channel is not allocated).
  const sql = o.databaseUrl ? postgres(o.databaseUrl, { max: 2, onnotice: () => {} }) : null;
  const pjsip = new PjsipDirectory(sql, model.endpoints, (name) => {
    const states: string[] = [];
    for (const c of model.channels.values()) if (c.endpoint === name) states.push(c.state);
    return states;
  });
  model.pjsip = pjsip;
  // At load res_pjsip reads every endpoint (to qualify their AORs): ARI knows them all from then.
  await pjsip.loadAll();
  model.realtime = (name) => pjsip.dialable(name);
  const limits = resolveLimits(o.limits);
  let crashed: Crash | null = null;
  // Every channel gone at once and nobody left to say so, as after any Asterisk restart.
  const loseChannels = () => {
    for (const c of model.channels.values()) {
      for (const t of c.timers) clearTimeout(t);
      clearTimeout(c.absoluteTimer);
    }
    model.channels.clear();
    model.bridges.clear();
    cdrs.reset();
  };
  // A segfault: every connection drops without a close handshake, no port answers, every call is
  // lost. Only restart() brings it back (as an operator or a supervisor would restart Asterisk).
  const crash = (reason: string, frameBytes: number) => {
    if (crashed) return;
    crashed = { reason, frameBytes, at: new Date() };
    ari.dropWebSockets();
    amiSrv.dropAll();
    http.closeAllConnections();
    http.close();
    amiSrv.server.close();
    for (const s of sockets) s.destroy();
    for (const c of model.channels.values()) {
      for (const t of c.timers) clearTimeout(t);
      clearTimeout(c.absoluteTimer);
    }
    // The model is emptied once the code that was running when it died has unwound.
    setImmediate(loseChannels);
    events.emit('crashed', crashed);
  };
  // Each server listens to the model; a restart replaces both servers, so the listeners of the old
  // ones are removed with them (else every restart left a full set behind, each still run per event).
  const owning = <T>(make: () => T): { made: T; detach: () => void } => {
    const before = new Map(model.eventNames().map((n) => [n, new Set(model.listeners(n))]));
    const made = make();
    const added = model
      .eventNames()
      .flatMap((n) => model.listeners(n).flatMap((f) => (before.get(n)?.has(f) ? [] : [[n, f] as const])));
    return {
      made,
      detach: () => {
        for (const [n, f] of added) model.off(n, f as (...a: unknown[]) => void);
      },
    };
  };
  let detachAri = () => {};
  const newAri = () => {
    const { made, detach } = owning(() => new AriServer(model, user, password, limits, crash));
    detachAri = detach;
    return made;
  };
  let ari = newAri();
  const logged: Array<{ level: string; message: string }> = [];
  model.on('log', (level: string, message: string) => {
    logged.push({ level, message });
    if (logged.length > 100) logged.shift();
  });
  const runDialplan = createInterpreter(dialplan, model, () => ari, stats, {
    ...(o.broadcastTimeoutMs !== undefined ? { broadcastTimeoutMs: o.broadcastTimeoutMs } : {}),
  });

  model.findLabel = (context, exten, label) =>
    findExtension(dialplan, context, exten)?.find((st) => st.label === label)?.priority ?? -1;
  model.extensionExists = (context, exten, priority) =>
    !!findExtension(dialplan, context, exten)?.some((st) => st.priority === priority);
  model.runDialplan = (c, context, exten, priority) => {
    // The first run of a Local pair's `;2` is chan_local's local_call: the pair is joined (AMI
    // LocalBridge) and `;2`'s PBX thread starts.
    if (!c.called && c.peer && c.name.endsWith(';2')) {
      const one = model.channels.get(c.peer);
      if (one) model.localCall(one, c);
    }
    c.called = true;
    return runDialplan(c, context, exten, priority);
  };

  // A carrier's call as the lab places one: an originate of Local/<did>@<context> whose `;2` half
  // runs the dialplan (the inbound call the Stasis app sees) and whose `;1` half is the caller.
  const inbound = (p: {
    did: string;
    callerNumber: string;
    callerName?: string;
    hangupAfterMs?: number;
    context?: string;
    /** id of the `;2` half (the inbound call the Stasis app sees) */
    channelId?: string;
  }) => {
    stats.inbound++;
    const context = p.context ?? 'from-carrier';
    const id2 = p.channelId ?? newUniqueId();
    // Armed before the dialplan runs: a call with no Stasis app is over at once.
    const { channel } = originate(model, {
      endpoint: `Local/${p.did}@${context}`,
      caller: { name: p.callerName ?? '', number: p.callerNumber },
      otherChannelId: id2,
      after: null,
    });
    const two = model.channels.get(id2);
    if (channel && two && p.hangupAfterMs !== undefined)
      model.later(two, p.hangupAfterMs, () => model.hangup(two.id, 16));
    return id2;
  };

  // MixMonitor's files: one under Asterisk's recording directory is an ARI stored recording (the
  // name its path there, without the extension); others are kept by path (sim.recordedFile).
  const files = new Map<string, { format: string; durationS: number }>();
  const storeFile = (path: string, format: string, durationS: number, append: boolean) => {
    const name = storedName(path);
    const stored = ari.state.media.stored;
    const before = append ? ((name ? stored.get(name) : files.get(path))?.durationS ?? 0) : 0;
    if (name) stored.set(name, { name, format, durationS: before + durationS });
    else files.set(path, { format, durationS: before + durationS });
  };

  // ast_device_state: a provider's device (`Stasis:` from ARI; another provider is unknown:
  // INVALID), else the channel driver's (PJSIP, Local; a technology not loaded: INVALID).
  const deviceState = (device: string): string => {
    if (device.startsWith('Stasis:')) return ari.state.deviceStates.get(device.slice(7)) ?? 'UNKNOWN';
    const slash = device.indexOf('/');
    if (slash < 0) return 'INVALID';
    const tech = device.slice(0, slash).toLowerCase();
    return tech === 'pjsip' || tech === 'local' ? model.deviceState(device) : 'INVALID';
  };

  let http: Server;
  let amiSrv: AmiServer;
  let detachAmi = () => {};
  let ariPort = o.ariPort ?? 8088;
  let amiPort = o.amiPort ?? 5038;
  // HTTP sessions as main/http.c counts them: every accepted connection, a WebSocket for its whole
  // life; one past the limit is closed before anything is read or answered.
  const sockets = new Set<Socket>();
  let refused = 0;
  let peak = 0;
  const listen = async () => {
    http = createServer((req, res) => void ari.handle(req, res));
    http.keepAliveTimeout = Number.isFinite(limits.httpKeepAliveMs) ? limits.httpKeepAliveMs : 0;
    http.on('connection', (sock) => {
      if (sockets.size >= limits.httpSessions) {
        refused++;
        sock.destroy();
        events.emit('session-refused', sockets.size);
        return;
      }
      sockets.add(sock);
      peak = Math.max(peak, sockets.size);
      sock.once('close', () => sockets.delete(sock));
    });
    http.on('upgrade', (req, sock, head) => ari.upgrade(req, sock, head));
    const ami = owning(
      () =>
        new AmiServer(
          model,
          user,
          password,
          {
            pjsip,
            cdrManager,
            storeFile,
            deviceState,
            hint: (context, exten) => findHint(dialplan, context, exten),
            exists: model.extensionExists,
            hints: () =>
              [...dialplan.hints].flatMap(([context, h]) =>
                [...h].map(([exten, hint]) => ({ context, exten, hint })),
              ),
            ...(o.queues ? { queues: o.queues } : {}),
          },
          o.badLoginDelayMs ?? 1000,
          o.ami,
        ),
    );
    amiSrv = ami.made;
    detachAmi = ami.detach;
    await new Promise<void>((r) => http.listen(ariPort, host, r));
    ariPort = (http.address() as AddressInfo).port;
    await new Promise<void>((r) => amiSrv.server.listen(amiPort, host, r));
    amiPort = (amiSrv.server.address() as AddressInfo).port;
  };
  const close = async () => {
    ari.dropWebSockets();
    amiSrv.dropAll();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
    await new Promise<void>((r) => amiSrv.server.close(() => r()));
    detachAri();
    detachAmi();
  };
  await listen();

  const sim: Simulator = {
    get ariUrl() {
      return `http://${host}:${ariPort}`;
    },
    get ariPort() {
      return ariPort;
    },
    get amiPort() {
      return amiPort;
    },
    events,
    stats,
    limits,
    get crashed() {
      return crashed;
    },
    httpSessions: () => ({ open: sockets.size, peak, refused }),
    setEndpoint: (name, b) => void model.endpoints.set(name, b),
    removeEndpoint: (name) => void model.endpoints.delete(name),
    hangup: (id, cause = 16) => model.hangup(id, cause),
    liveChannels: () =>
      [...model.channels.values()].map((c) => ({ ...model.json(c), id: c.id, name: c.name, state: c.state })),
    hears: (id) => {
      const c = model.channels.get(id);
      return c ? model.hears(c) : null;
    },
    channelCount: (prefix = '') => {
      let n = 0;
      for (const c of model.channels.values()) if (c.name.startsWith(prefix)) n++;
      return n;
    },
    pressDigits: (id, digits, durationMs = 100) => {
      const c = model.channels.get(id);
      if (!c) return;
      [...digits].forEach((d, i) => {
        const begin = i * (durationMs + 100);
        model.later(c, begin, () => model.readDtmf(c, d, null));
        model.later(c, begin + durationMs, () => model.readDtmf(c, d, durationMs));
      });
    },
    registerContact: (r) => registerContact(model, sql, r),
    unregisterContact: (r) => unregisterContact(model, sql, r),
    setFarEndSilent: (id, silent) => {
      const c = model.channels.get(id);
      if (!c || !!c.farSilent === silent) return;
      c.farSilent = silent;
      model.emit('far-silence', c);
    },
    placeInboundCall: (p) => inbound(p),
    recordedFile: (path) => {
      const name = storedName(path);
      const r = name ? ari.state.media.stored.get(name) : files.get(path);
      return r && { format: r.format, durationS: r.durationS };
    },
    dropWebSockets: () => ari.dropWebSockets(),
    stallWebSocketRequests: (o) => ari.stallWebSocketRequests(o),
    dropAmi: () => amiSrv.dropAll(),
    listenerCount: () => model.eventNames().reduce((n, e) => n + model.listenerCount(e), 0),
    logged: () => [...logged],
    async restart(r = {}) {
      await close();
      // A real restart loses every channel, silently: nobody is left to send events.
      if (!r.keepChannels || crashed) loseChannels();
      crashed = null;
      ari = newAri();
      await new Promise((res) => setTimeout(res, r.downMs ?? 0));
      await listen();
    },
    async stop() {
      await sql?.end({ timeout: 1 });
      await cdrBackend?.stop();
      for (const c of model.channels.values()) {
        for (const t of c.timers) clearTimeout(t);
        clearTimeout(c.absoluteTimer);
      }
      model.removeAllListeners('ari-event');
      await close();
    },
  };
  return sim;
}

/** The environment that points a daemon at a simulator node (the ASTERISK_* variables). */
export function asteriskEnv(
  sim: Pick<Simulator, 'ariUrl' | 'amiPort'>,
  nodeId = 'asterisk-1',
): Record<string, string> {
  return {
    ASTERISK_NODE_ID: nodeId,
    ASTERISK_ARI_URL: sim.ariUrl,
    ASTERISK_ARI_USER: 'asterisk',
    ASTERISK_ARI_PASSWORD: 'asterisk',
    ASTERISK_AMI_PORT: String(sim.amiPort),
    ASTERISK_AMI_USER: 'asterisk',
    ASTERISK_AMI_SECRET: 'asterisk',
  };
}
