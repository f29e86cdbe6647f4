// What ARI keeps beside the channel model: the apps held by WebSockets, their event filters, the
// StasisBroadcast offers in progress. Handlers (channels.ts, bridges.ts, ...) read and change it;
// the transport (server.ts) delivers the events it emits.
import type { WebSocket } from 'ws';
import { asteriskTime, type SimChannel, type SimModel } from '../model.ts';
import type { ContactStatus } from '../pjsip/registrar.ts';
import { Media } from './media.ts';

export interface EventFilter {
  allowed: Set<string>;
  disallowed: Set<string>;
}

export class AriState {
  /** app name -> the WebSocket holding it */
  apps = new Map<string, WebSocket>();
  /**
   * Event type filters per app (PUT /applications/{app}/eventFilter). They live as long as the app
   * does in Asterisk's registry: while a WebSocket holds it, or after, while channels it holds are
   * left (see unregister).
   */
  filters = new Map<string, EventFilter>();
  /** Apps no WebSocket holds any more that Asterisk keeps (inactive) for the channels they still have. */
  inactive = new Set<string>();
  /** StasisBroadcast offers in progress, by channel id. */
  broadcasts = new Map<
    string,
    { winner: string | null; expired: boolean; resolve: (app: string | null) => void }
  >();

  readonly media: Media;
  deviceStates = new Map<string, string>();
  mailboxes = new Map<string, { old_messages: number; new_messages: number }>();
  /** Modules unloaded over ARI since start, and the logger's channels (name -> levels). */
  unloadedModules = new Set<string>();
  logChannels = new Map<string, string>([
    ['console', 'notice,warning,error'],
    ['messages', 'notice,warning,error'],
  ]);
  /**
   * Channels whose control is done (control->is_done: a `continue` has run) while what was queued
   * behind it drains: they take no more commands (control.ts).
   */
  doneControls = new Set<string>();
  /** Extra event sources each app subscribed to (POST /applications/{app}/subscription). */
  subscriptions = new Map<string, Set<string>>();

  constructor(readonly model: SimModel) {
    this.media = new Media(model);
    model.subscribers = (type, body) => this.subscribersOf(type, body);
    model.subscribed = () => this.subscriptions.size > 0;
    // Playbacks and recordings end with the channel they run on (before it leaves Stasis); a
    // bridge's run on its announcer and recorder channels, which go with the bridge.
    model.on('hanging-up', (c: SimChannel) => {
      this.media.targetGone(`channel:${c.id}`);
      this.doneControls.delete(c.id);
    });
    model.on('channel-destroyed', (c: SimChannel) => {
      for (const app of this.inactive) if (!this.holdsChannels(app)) this.forget(app);
      this.endpointChanged(c);
    });
    // Only apps that subscribed hear device and endpoint changes: nothing is built otherwise.
    model.on('device-state', (device: string) => {
      if (!this.subscriptions.size) return;
      const apps = this.deviceStateSubscribers(device);
      if (apps.length)
        model.event(apps, 'DeviceStateChanged', {
          device_state: { name: device, state: model.deviceState(device) },
        });
    });
    model.on('channel-created', (c: SimChannel) => this.endpointChanged(c));
    // res_pjsip's reachability (pjsip/registrar.ts), published on the endpoint's topic.
    model.on('endpoint-state', (endpoint: string) => this.subscriptions.size && this.endpointEvent(endpoint));
    model.on('peer-status', (endpoint: string, peer_status: string) => {
      if (this.subscriptions.size)
        model.event(null, 'PeerStatusChange', () => ({
          endpoint: this.endpointSnapshot(endpoint),
          peer: { peer_status },
        }));
    });
    model.on('contact-status', (c: ContactStatus) => {
      if (this.subscriptions.size)
        model.event(null, 'ContactStatusChange', () => ({
          endpoint: this.endpointSnapshot(c.endpoint),
          contact_info: { uri: c.uri, contact_status: c.status, aor: c.aor, roundtrip_usec: c.roundtripUsec },
        }));
    });
  }

  /**
   * A channel added to or removed from its PJSIP endpoint (ast_endpoint_add_channel /
   * remove_channel publish the endpoint's snapshot): EndpointStateChange to the apps subscribed.
   */
  private endpointChanged(c: SimChannel): void {
    if (this.subscriptions.size && c.endpoint && c.name.startsWith('PJSIP/')) this.endpointEvent(c.endpoint);
  }

  /** EndpointStateChange with the endpoint's snapshot now, to the apps subscribed to it. */
  endpointEvent(resource: string): void {
    this.model.event(null, 'EndpointStateChange', () => ({ endpoint: this.endpointSnapshot(resource) }));
  }

  /** The persistent endpoint's snapshot as last recorded (no realtime read). */
  endpointSnapshot(resource: string) {
    const channel_ids = [...this.model.channels.values()]
      .filter((c) => c.endpoint === resource && c.name.startsWith('PJSIP/'))
      .map((c) => c.id);
    const state = this.model.pjsip.isOnline(resource) ? 'online' : 'offline';
    return { technology: 'PJSIP', resource, state, channel_ids };
  }

  /** A WebSocket took the app: a kept (inactive) app comes back as it was, filters and all. */
  register(app: string, ws: WebSocket): void {
    this.apps.set(app, ws);
    this.inactive.delete(app);
  }

  /**
   * The app's WebSocket went away (res_stasis's stasis_app_unregister): it is unsubscribed from
   * every event source and deactivated, and dropped from the registry, event filters and all, at
   * once unless channels it holds are still up; then when the last of them goes. GET
   * /applications/{app} answers 404 from then on, and the next WebSocket starts it with no filter.
   */
  unregister(app: string): void {
    this.apps.delete(app);
    this.subscriptions.delete(app);
    if (this.holdsChannels(app)) this.inactive.add(app);
    else this.forget(app);
  }

  /**
   * ARI's endpoint: res_pjsip's persistent endpoint, which exists for a configured endpoint and for
   * every realtime one loaded since start (listed, offline, even after its row is deleted, until a
   * restart); ARI itself never reads the realtime tables. Online while reachable.
   */
  async endpointJson(tech: string, resource: string) {
    if (tech.toUpperCase() !== 'PJSIP') return null;
    const dir = this.model.pjsip;
    if (!this.model.endpoints.has(resource) && !dir.persistent.has(resource)) return null;
    const o = await dir.objects(resource);
    const channel_ids = [...this.model.channels.values()]
      .filter((c) => c.endpoint === resource)
      .map((c) => c.id);
    const state = dir.reachable(resource, o) ? 'online' : 'offline';
    return { technology: 'PJSIP', resource, state, channel_ids };
  }

  /** Whether the app exists in Asterisk's registry (active, or kept for its channels). */
  known(app: string): boolean {
    return this.apps.has(app) || this.inactive.has(app);
  }

  private holdsChannels(app: string): boolean {
    for (const c of this.model.channels.values()) if (c.app === app || c.owner === app) return true;
    return false;
  }

  private forget(app: string): void {
    this.inactive.delete(app);
    this.filters.delete(app);
    this.subscriptions.delete(app);
  }

  /**
   * StasisBroadcast: offers the channel to every app whose name matches `filter` with a CallBroadcast
   * event; resolves with the first app that claims it, or null when nobody does within `timeoutMs`.
   */
  broadcast(c: SimChannel, filter: RegExp, timeoutMs: number): Promise<string | null> {
    return new Promise((resolve) => {
      const entry = {
        winner: null as string | null,
        expired: false,
        resolve: (app: string | null) => {
          clearTimeout(timer);
          resolve(app);
          // res_stasis_broadcast tells every app the offer went to which one won (CallClaimed).
          if (app)
            for (const to of [...this.apps.keys()].filter((a) => filter.test(a)))
              this.model.emit('ari-event', to, {
                type: 'CallClaimed',
                timestamp: asteriskTime(new Date()),
                channel: this.model.json(c),
                winner_app: app,
                asterisk_id: this.model.asteriskId,
                application: to,
              });
          // Kept a while: a late claim of a claimed channel gets 409, of an unclaimed one 404.
          setTimeout(() => this.broadcasts.delete(c.id), 5000).unref();
        },
      };
      const timer = setTimeout(() => {
        entry.expired = true;
        entry.resolve(null);
      }, timeoutMs);
      this.broadcasts.set(c.id, entry);
      const targets = [...this.apps.keys()].filter((a) => filter.test(a));
      for (const app of targets)
        this.model.emit('ari-event', app, {
          type: 'CallBroadcast',
          timestamp: new Date().toISOString(),
          channel: this.model.json(c),
          caller: c.caller.number,
          called: c.dialplan.exten,
          asterisk_id: this.model.asteriskId,
          application: app,
        });
      if (!targets.length) {
        entry.expired = true;
        entry.resolve(null);
      }
    });
  }

  /**
   * The apps subscribed to what an event is about (its channel, the dialled peer, its bridge, its
   * endpoint, a playback's or recording's target), each through a subscription of its own or one
   * to every object of the kind (`channel:`, `bridge:`, `endpoint:`, `endpoint:PJSIP`). StasisStart,
   * StasisEnd and the events sent to one app only are not forwarded.
   */
  subscribersOf(type: string, body: Record<string, unknown>): string[] {
    if (this.subscriptions.size === 0 || DIRECT.has(type)) return [];
    const uris: string[] = [];
    const id = (v: unknown) => (v as { id?: string } | undefined)?.id;
    for (const k of ['channel', 'peer', 'replace_channel'] as const) {
      const c = id(body[k]);
      if (c) uris.push(`channel:${c}`, 'channel:');
    }
    // A PJSIP channel's topic is forwarded to its endpoint's (ast_channel_forward_endpoint).
    const name = (body.channel as { name?: string } | undefined)?.name;
    if (name?.startsWith('PJSIP/')) {
      const resource = name.slice('PJSIP/'.length, name.lastIndexOf('-'));
      uris.push(`endpoint:PJSIP/${resource}`, 'endpoint:PJSIP', 'endpoint:');
    }
    const b = id(body.bridge);
    if (b) uris.push(`bridge:${b}`, 'bridge:');
    const e = body.endpoint as { technology?: string; resource?: string } | undefined;
    if (e?.technology)
      uris.push(`endpoint:${e.technology}/${e.resource}`, `endpoint:${e.technology}`, 'endpoint:');
    const target = ((body.playback ?? body.recording) as { target_uri?: string } | undefined)?.target_uri;
    if (target) uris.push(target, target.slice(0, target.indexOf(':') + 1));
    if (!uris.length) return [];
    const out: string[] = [];
    for (const [app, set] of this.subscriptions) if (uris.some((u) => set.has(u))) out.push(app);
    return out;
  }

  /** The apps subscribed to a device's state (`deviceState:<name>`, or `deviceState:` for all). */
  deviceStateSubscribers(name: string): string[] {
    const out: string[] = [];
    for (const [app, set] of this.subscriptions)
      if (set.has(`deviceState:${name}`) || set.has('deviceState:')) out.push(app);
    return out;
  }

  /**
   * The app as Asterisk lists it: the objects it is subscribed to, which include the channels in
   * Stasis in it or made by it, and the bridges those channels are in, besides those it asked for.
   */
  applicationJson(name: string) {
    const f = this.filters.get(name);
    const list = (set?: Set<string>) => [...(set ?? [])].map((type) => ({ type }));
    const subs = [...(this.subscriptions.get(name) ?? [])];
    const of = (scheme: string) =>
      subs.filter((x) => x.startsWith(`${scheme}:`)).map((x) => x.slice(scheme.length + 1));
    const channels = new Set(of('channel'));
    const bridges = new Set(of('bridge'));
    for (const c of this.model.channels.values())
      if (c.app === name || c.owner === name) {
        channels.add(c.id);
        if (c.app === name && c.bridge) bridges.add(c.bridge);
      }
    return {
      name,
      channel_ids: [...channels],
      bridge_ids: [...bridges],
      endpoint_ids: of('endpoint'),
      device_names: of('deviceState'),
      events_allowed: list(f?.allowed),
      events_disallowed: list(f?.disallowed),
    };
  }
}

/** Events Asterisk sends to one app only, never forwarded to the subscribers of their channel. */
const DIRECT = new Set([
  'StasisStart',
  'StasisEnd',
  'ApplicationReplaced',
  'ApplicationMoveFailed',
  'ApplicationRegistered',
  'ApplicationUnregistered',
  'CallBroadcast',
  'ChannelUserevent',
  'DeviceStateChanged',
]);
