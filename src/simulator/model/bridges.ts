// Bridges in the simulator's model: a channel entering and leaving, what bridge.c does after each
// change (technology, BRIDGEPEER, connected line), and a bridge's destruction with its media channels.
import { SimModelCore } from './core.ts';
import { asteriskTime, byAge, type SimBridge, type SimChannel } from './types.ts';

export abstract class SimBridges extends SimModelCore {
  /** Hangs a channel up (the channels' life, ../model.ts): a bridge's media channels go this way. */
  abstract hangup(id: string, cause: number, soft?: boolean, requested?: boolean): void;

  createBridge(
    id: string,
    type: string,
    name: string,
    basic = false,
    o: { native?: boolean; multimixOnly?: boolean; videoMode?: SimBridge['videoMode'] } = {},
  ): SimBridge {
    const caps = { native: type !== 'holding' && (o.native ?? true), multimixOnly: !!o.multimixOnly };
    const b: SimBridge = {
      id,
      type,
      name,
      channels: new Set(),
      creationtime: asteriskTime(new Date()),
      apps: new Set(),
      vars: new Map(),
      moh: false,
      technology: type === 'holding' ? 'holding_bridge' : caps.multimixOnly ? 'softmix' : 'simple_bridge',
      caps,
      videoMode: o.videoMode ?? 'talker',
      ...(basic ? { basic } : {}),
    };
    this.bridges.set(id, b);
    this.emit('bridge-created', b);
    return b;
  }

  /**
   * Puts a channel in a bridge (leaving any other first). Two parties bridged see each other as
   * connected line, and share the oldest Linkedid.
   */
  enterBridge(c: SimChannel, b: SimBridge): void {
    if (c.bridge === b.id) return;
    if (c.bridge) this.leaveBridge(c);
    c.bridge = b.id;
    // The bridge's audio written to the channel stops its generator (tone or music) for good.
    if (c.ringback === 'inband') c.ringback = undefined;
    c.moh = false;
    b.channels.add(c.id);
    // A Stasis bridge is subscribed to by the app of each channel joining it (control.c); a basic
    // one by nobody: its events reach only apps subscribed to it.
    const app = b.basic ? null : this.target(c);
    if (app) b.apps.add(app);
    // Bridged channels share the oldest Linkedid of the bridge (the other half of a Local pair
    // keeps its own).
    const oldest = [...b.channels].map((id) => this.channels.get(id)?.linkedid ?? id).sort(byAge)[0]!;
    for (const id of b.channels) {
      const x = this.channels.get(id);
      if (x) x.linkedid = oldest;
    }
    this.emit('bridge-enter', c, b.id, b.channels.size);
    // Published on the bridge's topic: every app with a channel in the bridge hears it.
    this.event([app, ...this.bridgeApps(b)].filter(Boolean) as string[], 'ChannelEnteredBridge', {
      bridge: this.bridgeJson(b.id),
      channel: this.json(c),
    });
    this.reconfigured(b);
  }

  /**
   * What bridge.c does after a channel joins or leaves (bridge_reconfigured): the parties' bridge
   * variables, and, with two parties in a bridge that mixes them one to one, a connected-line
   * update each way (the second party's queued first). A holding bridge or three parties get none.
   * The technology changes first.
   */
  private reconfigured(b: SimBridge): void {
    if (b.type !== 'holding') b.technology = this.technologyFor(b);
    this.bridgePeerVars(b);
    // A basic bridge's parties joined with AST_BRIDGE_IMPART_INHIBIT_JOIN_COLP / _JOIN_INHIBIT_JOIN_COLP.
    if (b.channels.size !== 2 || b.type.includes('holding') || b.basic) return;
    const [x, y] = [...b.channels].map((id) => this.channels.get(id));
    if (x && y) {
      this.setConnected(y, x.caller);
      this.setConnected(x, y.caller);
    }
  }

  /**
   * smart_bridge_operation's pick: more than two channels need a multimix technology (softmix);
   * for two, native_rtp (preferred to simple_bridge) when the bridge allows native bridging and
   * native_rtp_bridge_compatible holds: both channels up and with RTP glue that does not forbid it
   * (chan_pjsip's, for an endpoint without media encryption: the simulator's never have any); a
   * Local, internal or snoop channel has no RTP glue. Asterisk looks again only when the bridge is
   * reconfigured (a channel joining or leaving), not when a bridged channel answers later.
   */
  private technologyFor(b: SimBridge): string {
    if (b.caps.multimixOnly || b.channels.size > 2) return 'softmix';
    if (b.caps.native && b.channels.size === 2) {
      const rtp = [...b.channels].every((id) => {
        const x = this.channels.get(id);
        return !!x?.name.startsWith('PJSIP/') && x.state === 'Up';
      });
      if (rtp) return 'native_rtp';
    }
    return 'simple_bridge';
  }

  /**
   * BRIDGEPEER as bridge.c sets it when a bridge changes (set_bridge_peer_vars): in a holding
   * bridge unset; with two parties each names the other (first party first); with more each gets
   * the others' names, comma separated (at most ten). PJSIP channels also get BRIDGEPVTCALLID (the
   * peer's SIP Call-ID, made up here); Local channels have none, so it stays unset.
   */
  private bridgePeerVars(b: SimBridge): void {
    const members = [...b.channels].map((id) => this.channels.get(id)).filter((x) => x !== undefined);
    if (b.type.includes('holding')) {
      for (const x of members) {
        this.setVar(x, 'BRIDGEPEER', null);
        this.setVar(x, 'BRIDGEPVTCALLID', null);
      }
      return;
    }
    if (members.length < 2) return;
    const names = members.slice(0, 11).map((x) => x.name);
    members.forEach((x, i) => {
      const other = members.length === 2 ? members[1 - i]! : undefined;
      this.setVar(x, 'BRIDGEPEER', other ? other.name : names.filter((_, j) => j !== i).join(','));
      this.setVar(x, 'BRIDGEPVTCALLID', other?.name.startsWith('PJSIP/') ? `${other.id}@simulator` : null);
    });
  }

  /**
   * A connected-line update. Through a Local pair it becomes the other half's caller id (what a
   * party connected to `;2` shows as the caller of `;1`, and the other way round).
   */
  setConnected(c: SimChannel, party: { name: string; number: string }): void {
    c.connected = { ...party };
    this.publish(c);
    const peer = c.peer ? this.channels.get(c.peer) : undefined;
    if (!peer) return;
    // The update reaches the other half as a frame. A `;2` not called yet has nobody reading it
    // (local_call's crossover copies the connected line anyway). In Stasis or a bridge it is
    // applied at once; a half running a dialplan application such as Wait() does not act on it,
    // and Asterisk shows it only when that half hangs up (its Hangup carries it, its HangupRequest
    // does not, and NewCallerid follows the Hangup).
    if (peer.name.endsWith(';2') && !peer.called) return;
    if (peer.called && peer.app === null && !peer.bridge) peer.pendingCaller = { ...party };
    else {
      peer.caller = { ...party };
      this.publish(peer);
    }
  }

  /**
   * Destroys a bridge: its channels leave it (they stay up), then BridgeDestroyed. Its announcer
   * and recorder channels, kicked out, hang up, ending what they play or record.
   */
  destroyBridge(b: SimBridge): void {
    const media: SimChannel[] = [];
    for (const cid of [...b.channels]) {
      const c = this.channels.get(cid);
      if (!c) continue;
      this.leaveBridge(c, false);
      if (c.media) media.push(c);
    }
    this.bridges.delete(b.id);
    this.emit('bridge-destroyed', b);
    for (const app of b.apps) this.event(app, 'BridgeDestroyed', { bridge: this.bridgeJson2(b) });
    for (const m of media) this.hangup(m.id, 16);
  }

  /**
   * The apps subscribed to a bridge's topic: each app a channel of which entered it in Stasis. A
   * channel's hangup does not unsubscribe its app (its Stasis loop ends before noticing that the
   * bridge changed), which is why BridgeDestroyed still reaches an app whose channels are gone.
   */
  bridgeApps(b: SimBridge): string[] {
    return [...b.apps];
  }

  /**
   * Takes a channel out of its bridge (ChannelLeftBridge to it and the bridge's apps). When only
   * lonely channels are left (announcers, recorders: AST_BRIDGE_CHANNEL_FLAG_LONELY),
   * bridge_channel_dissolve_check kicks them out too, and they hang up.
   */
  leaveBridge(c: SimChannel, kickLonely = true): void {
    const b = c.bridge ? this.bridges.get(c.bridge) : undefined;
    if (b) {
      // Told to leave, the channel loses its bridge variables (bridge_channel.c), before it goes.
      this.setVar(c, 'BRIDGEPEER', null);
      this.setVar(c, 'BRIDGEPVTCALLID', null);
    }
    c.bridge = null;
    if (!b) return;
    const hearers = [b.basic ? null : this.target(c), ...this.bridgeApps(b)].filter(Boolean) as string[];
    b.channels.delete(c.id);
    this.emit('bridge-leave', c, b.id, b.channels.size);
    this.event(hearers, 'ChannelLeftBridge', { bridge: this.bridgeJson(b.id), channel: this.json(c) });
    // Those left behind are told their new peers (one left alone keeps what it had).
    this.reconfigured(b);
    if (!kickLonely || c.media || !b.channels.size) return;
    const rest = [...b.channels].map((id) => this.channels.get(id));
    if (rest.some((x) => !x?.media)) return;
    for (const m of rest) {
      if (!m || m.bridge !== b.id) continue;
      this.leaveBridge(m, false);
      this.hangup(m.id, 16);
    }
  }
}
