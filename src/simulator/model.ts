// The simulator's model of Asterisk channels and bridges, and the ARI events each change emits,
// in Asterisk's order. Transport-free: ari.ts and ami.ts drive it. Layered: model/types.ts (the
// data and Asterisk's tables), model/core.ts (events, snapshots, variables, waiters),
// model/bridges.ts (bridges), and here the channels' life: creation, state, dials, Stasis, hangup.
import { SimBridges } from './model/bridges.ts';
import {
  asteriskNow,
  CAUSE_TXT,
  type DialState,
  dialStatusOf,
  published,
  type SimChannel,
} from './model/types.ts';

export type { DialState, EndpointBehaviour, SimBridge, SimChannel } from './model/types.ts';
export { asteriskTime, CAUSE_TXT, presentation, REASON_CAUSE } from './model/types.ts';

export class SimModel extends SimBridges {
  /**
   * chan_local's local_call (ast_unreal_call_setup), once per pair: `;1`'s variables are copied to `;2` in
   * Asterisk's list order (newest first), each a VarSet; caller id and connected line cross over
   * (`;2` calls as `;1`'s connected line) and `;2`'s snapshot is published. Then, when `;2`'s
   * extension exists, the pair is joined (`join`: AMI LocalBridge) and `;2`'s PBX thread starts;
   * when it does not, local_call fails after that setup and `;2` is never called.
   */
  localCall(one: SimChannel, two: SimChannel, join = true): void {
    if (two.called) return;
    for (const [k, v] of [...one.vars].reverse()) this.setVar(two, k, v);
    two.caller = { ...one.connected };
    two.connected = { ...one.caller };
    if (one.peeraccount !== undefined) two.accountcode = one.peeraccount;
    if (one.accountcode !== undefined) two.peeraccount = one.accountcode;
    this.publish(two);
    if (!join) return;
    two.called = true;
    this.emit('local-call', one, two);
  }

  /**
   * ast_call on a Local `;1` (chan_local's local_call): the pair's setup, then, when `;2`'s
   * extension exists, the pair joined (`;2`'s dialplan is the caller's to start); when it does not,
   * the call fails (false) after the setup, with chan_local's notice, and `;2` is never called.
   */
  callLocal(one: SimChannel, two: SimChannel): boolean {
    const { context, exten } = two.dialplan;
    const exists = this.extensionExists(context, exten, 1);
    this.localCall(one, two, exists);
    if (!exists)
      this.emit('log', 'NOTICE', `No such extension/context ${exten}@${context} while calling Local channel`);
    return exists;
  }

  create(o: Partial<SimChannel> & { name: string; id: string }): SimChannel {
    const c: SimChannel = {
      state: 'Down',
      caller: { name: '', number: '' },
      connected: { name: '', number: '' },
      dialplan: { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' },
      creationtime: asteriskNow(),
      vars: new Map(),
      app: null,
      fromDialplan: false,
      bridge: null,
      endpoint: null,
      timers: [],
      dialing: false,
      ...o,
    };
    if (c.state === 'Up') c.upAt = Date.now();
    c.published = published(c);
    this.channels.set(c.id, c);
    if (c.media) this.internal.add(c.id);
    else this.devices.add(c);
    this.emit('channel-created', c);
    return c;
  }

  setState(c: SimChannel, state: SimChannel['state']): void {
    if (c.state === state) return;
    c.state = state;
    // The answer ends the far side's ringback.
    if (state === 'Up' && c.ringback === 'far') c.ringback = undefined;
    if (state === 'Up') c.upAt ??= Date.now();
    this.emit('state', c);
    this.deviceChanged(c);
    this.event(this.target(c), 'ChannelStateChange', () => ({ channel: this.json(c) }));
    // The other half of a Local pair follows: ringing and answer travel from ;2 to ;1.
    const peer = c.peer ? this.channels.get(c.peer) : undefined;
    if (peer && c.name.endsWith(';2') && (state === 'Ringing' || state === 'Up') && peer.state !== 'Up')
      this.setState(peer, state);
    if (c.dial && (state === 'Ringing' || state === 'Up'))
      this.dialProgress(c, state === 'Up' ? 'ANSWER' : 'RINGING');
    if (state === 'Ringing') c.onProgress?.('RINGING');
    if (state === 'Up') this.fire(c.id, 'up');
  }

  /** A Dial event (ARI) and its AMI counterpart for the channel being dialled. */
  dialEvent(c: SimChannel, status: string): void {
    const d = c.dial;
    if (!d) return;
    // An originate's dial reports its dial string every time; channels/dial only at the start.
    // Neither names a caller: channels/dial publishes its dial with none even when given one
    // (res/stasis/control.c app_control_dial; the later statuses come from the dial bridge).
    this.event(this.target(c), 'Dial', () => ({
      dialstatus: status,
      forward: '',
      dialstring: d.originate || status === '' ? d.dialstring : '',
      peer: this.json(c),
    }));
    this.emit('dial', c, undefined, status, d.dialstring);
  }

  /**
   * A dial app_dial reports (ast_channel_publish_dial with a caller): published on the caller's
   * topic, so the apps hearing the caller get ARI Dial; AMI DialBegin/DialState/DialEnd.
   */
  appDialEvent(caller: SimChannel, peer: SimChannel, status: string, dialstring: string): void {
    this.event(this.target(caller), 'Dial', () => ({
      dialstatus: status,
      forward: '',
      dialstring,
      caller: this.json(caller),
      peer: this.json(peer),
    }));
    this.emit('dial', peer, caller, status, dialstring);
  }

  /** Starts a dial towards `c`: Dial "" / DialBegin. */
  beginDial(c: SimChannel, d: Omit<DialState, 'status'>): void {
    c.dial = { ...d, status: '' };
    c.dialing = true;
    this.dialEvent(c, '');
  }

  private dialProgress(c: SimChannel, status: 'RINGING' | 'ANSWER'): void {
    const d = c.dial!;
    if (status === 'ANSWER') {
      // The dial timeout no longer applies once answered.
      for (const t of c.timers) clearTimeout(t);
      c.timers = [];
    }
    d.status = status;
    this.dialEvent(c, status);
    if (status === 'ANSWER') {
      c.dial = undefined;
      this.emit('dial-answered', c);
    }
  }

  /**
   * A busy or congestion indication (Busy(), Congestion(), or the dialplan falling off its end
   * after a Dial that was busy or congested). A channel not answered yet takes the Busy state and
   * the cause (17 or 34) it will hang up with. Through a Local pair the indication reaches `;1`:
   * dialled by ARI (channels/dial, in a bridge), it is reported in a Dial event with that
   * dialstatus and the channel stays up (the bridge core publishes it and does nothing else);
   * dialled by an originate, the dial reports it and hangs the channel up, as main/dial.c does.
   */
  indicate(c: SimChannel, what: 'BUSY' | 'CONGESTION'): void {
    const cause = what === 'BUSY' ? 17 : 34;
    if (c.state !== 'Up') {
      c.hangupCause = cause;
      this.setState(c, 'Busy');
    }
    const peer = c.peer && c.name.endsWith(';2') ? this.channels.get(c.peer) : undefined;
    // app_dial reads the indication on the `;1` it called (wait_for_answer) and ends that line.
    if (peer?.onProgress && peer.state !== 'Up') return peer.onProgress(what);
    if (!peer?.dial || peer.state === 'Up') return;
    this.dialEvent(peer, what);
    if (!peer.dial.originate) return;
    // dial.c hangs the channel up itself (ast_hangup: no hangup request, and no cause is set on
    // it: its Hangup says 0) and keeps the cause for the originate's reason.
    this.endOriginateDial(peer, what === 'BUSY' ? 5 : 8);
    this.hangup(peer.id, 0, false, false);
  }

  /** An originate's dial is over without an answer: the reason is kept for its outcome. */
  endOriginateDial(c: SimChannel, reason: number): void {
    c.dialReason = reason;
    c.dial = undefined;
  }

  /**
   * A DTMF frame the channel reads from its far side (channel.c ast_read): the begin (`durationMs`
   * null) or the end of a digit, each published as AMI DTMFBegin/DTMFEnd `Received`; the end also as
   * ARI ChannelDtmfReceived (to the app hearing the channel) and the model event `dtmf` (a recording
   * that ends on it ends after it). In a bridge the frame goes on to every other party
   * (bridge_channel.c), unless the channel joined with `absorbDTMF`: written to them (`writeDtmf`).
   * An end shorter than Asterisk's minimum (option_dtmfminduration, 80 ms) is reported as received
   * but reaches the bridge as an emulated end of 80 ms, that much after the begin.
   */
  readDtmf(c: SimChannel, digit: string, durationMs: number | null, depth = 0): void {
    if (this.channels.get(c.id) !== c) return;
    this.emit('dtmf-frame', c, digit, 'Received', durationMs);
    if (durationMs !== null) {
      this.event(this.target(c), 'ChannelDtmfReceived', {
        digit,
        duration_ms: durationMs,
        channel: this.json(c),
      });
      this.emit('dtmf', c, digit, durationMs);
    }
    const b = c.bridge && !c.absorbDtmf ? this.bridges.get(c.bridge) : undefined;
    // A pair bridged back onto itself would pass a digit round for ever; Asterisk's would too, until
    // the Local channel optimised itself away: the simulator stops after a few hops.
    if (!b || depth > 8) return;
    const pass = (len: number | null) => {
      for (const id of b.channels) {
        const x = id === c.id ? undefined : this.channels.get(id);
        if (x) this.writeDtmf(x, digit, len, depth + 1);
      }
    };
    if (durationMs === null || durationMs >= 80) pass(durationMs);
    else this.later(c, 80 - durationMs, () => pass(80));
  }

  /**
   * A DTMF frame written to the channel (channel.c ast_write): AMI DTMFBegin/DTMFEnd `Sent`, then
   * its technology sends it on: the other half of a Local pair (or a bridge's media pair) reads it
   * (core_unreal.c queues it there); a PJSIP far end receives it unseen.
   */
  writeDtmf(c: SimChannel, digit: string, durationMs: number | null, depth = 0): void {
    if (this.channels.get(c.id) !== c) return;
    this.emit('dtmf-frame', c, digit, 'Sent', durationMs);
    const far = c.peer ? this.channels.get(c.peer) : undefined;
    if (far) this.readDtmf(far, digit, durationMs, depth);
  }

  /**
   * Enters Stasis. Through the Stasis application (the dialplan's, or the one ARI runs on a
   * channel it made or originated: `viaApp`) STASISSTATUS is first set empty, heard by the
   * channel's owner only (the app hears the channel from StasisStart on); a channel that was
   * running no application shows its new place (Newexten, ChannelDialplan). Snoop channels and
   * `move` enter without the application.
   */
  enterStasis(
    c: SimChannel,
    app: string,
    args: string[],
    viaApp = true,
    replace?: Record<string, unknown>,
  ): void {
    c.beforeStasis = { app_name: c.dialplan.app_name, app_data: c.dialplan.app_data };
    c.dialplan = { ...c.dialplan, app_name: 'Stasis', app_data: [app, ...args].join(',') };
    if (viaApp) {
      this.publish(c);
      this.setVar(c, 'STASISSTATUS', '');
    }
    c.app = app;
    // A channel swapped into a Stasis bridge in another's place names it (`replace_channel`).
    this.event(app, 'StasisStart', {
      args,
      channel: this.json(c),
      ...(replace ? { replace_channel: replace } : {}),
    });
  }

  /**
   * Leaves Stasis (StasisEnd); the channel's later events go to its owner only. Leaving for good
   * (`done`: hung up, or back to the dialplan; not a `move` to another app) ends the Stasis
   * application, which sets STASISSTATUS to SUCCESS.
   */
  leaveStasis(c: SimChannel, done = true): void {
    const app = c.app;
    if (!app) return;
    this.event(app, 'StasisEnd', { channel: this.json(c) });
    c.app = null;
    if (done) this.setVar(c, 'STASISSTATUS', 'SUCCESS');
    // A channel Stasis() ran from the dialplan is still at that priority; any other goes back to
    // what it was running before (an originate's outgoing line, or nothing).
    if (!c.fromDialplan)
      c.dialplan = { ...c.dialplan, ...(c.beforeStasis ?? { app_name: '', app_data: '' }) };
  }

  /**
   * Hangs a channel up with a Q.850 cause. `soft` marks a hangup asked over ARI or AMI, which
   * Asterisk reports as ChannelHangupRequest cause 32 with soft: true. The events follow
   * Asterisk's order: the request, leaving the bridge, StasisEnd, then (to an owner only)
   * ChannelDestroyed; the other half of a Local pair is hung up with the same cause.
   */
  hangup(id: string, requestCause: number, soft = false, requested = true): void {
    const c = this.channels.get(id);
    if (!c) return;
    // A request without a cause leaves the one set before (Busy(), Congestion()) for the Hangup,
    // as ast_read sets the hangup cause only from a non-zero one.
    const cause = requestCause === 0 && c.hangupCause ? c.hangupCause : requestCause;
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
    clearTimeout(c.absoluteTimer);
    if (requested) {
      this.emit('hangup-request', c, soft ? 32 : requestCause, soft);
      this.event(this.target(c), 'ChannelHangupRequest', () =>
        soft
          ? { cause: 32, soft: true, channel: this.json(c) }
          : { cause: requestCause, channel: this.json(c) },
      );
    }
    // Its media (playbacks, recordings) ends now, before it leaves its bridge and Stasis.
    this.emit('hanging-up', c);
    if (c.onHangup) {
      const f = c.onHangup;
      c.onHangup = undefined;
      f(cause);
    }
    // An originate's dial whose channel hangs up before an answer reports the status its cause
    // maps to (dial.c ast_hangup_cause_to_dial_status); a channels/dial reports no final status
    // (the cause of ChannelDestroyed tells it).
    if (c.dial?.originate) {
      this.dialEvent(c, dialStatusOf(cause));
      this.endOriginateDial(c, 0);
    }
    if (c.bridge) this.leaveBridge(c);
    const wasInStasis = c.app !== null;
    this.leaveStasis(c);
    // A dialplan channel told to hang up by its peer goes back to the dialplan, whose PBX thread
    // ends with ast_softhangup(AST_SOFTHANGUP_APPUNLOAD): a second, soft request whose `cause` is
    // that flag (16), whatever cause the hangup carries (pbx.c __ast_pbx_run).
    if (wasInStasis && c.fromDialplan && !soft)
      this.event(c.owner, 'ChannelHangupRequest', () => ({ cause: 16, soft: true, channel: this.json(c) }));
    // A channel with a PBX thread of its own (it ran the dialplan: a Local `;2`, an originated
    // `;1` sent to an extension) is hung up by that thread, which first soft-hangs it up
    // (AMI SoftHangupRequest, its Cause the softhangup flag 0x10); one made by ARI has none.
    if (c.called) this.emit('pbx-softhangup', c);
    // A connected-line update queued on a channel busy in a dialplan application is read now.
    if (c.pendingCaller) {
      c.caller = c.pendingCaller;
      c.pendingCaller = undefined;
    }
    // A `;1` hanging up while its `;2` was never called (no PBX thread, no bridge: nothing takes
    // care of it) hangs that `;2` up itself, in its own hangup (core_unreal.c ast_unreal_hangup):
    // no hangup request, no cause, and `;2` is gone before `;1`.
    const uncalled = c.peer ? this.channels.get(c.peer) : undefined;
    // A `;2` going while its `;1` is still there, after a Dial() of its own: ast_unreal_hangup
    // hands the dial's status to `;1` as CHANLOCALSTATUS before queueing the hangup there.
    const status = c.vars.get('DIALSTATUS');
    if (uncalled && c.name.endsWith(';2') && status !== undefined)
      this.setVar(uncalled, 'CHANLOCALSTATUS', status);
    if (
      uncalled &&
      !c.name.endsWith(';2') &&
      uncalled.name.endsWith(';2') &&
      !uncalled.called &&
      !uncalled.bridge
    ) {
      uncalled.peer = undefined;
      this.hangup(uncalled.id, 0, false, false);
    }
    this.channels.delete(id);
    // The dialplan has finished with it: no application is running when it goes.
    if (c.fromDialplan) c.dialplan = { ...c.dialplan, app_name: '', app_data: '' };
    this.event(c.owner, 'ChannelDestroyed', () => ({
      cause,
      cause_txt: CAUSE_TXT[cause] ?? 'Unknown',
      channel: this.json(c),
    }));
    if (!c.media) this.devices.remove(c);
    this.emit('channel-destroyed', c, cause);
    this.deviceChanged(c);
    // The dead snapshot is compared like any other: a caller id read only now (above) is
    // reported after the Hangup, from the same update.
    this.publish(c, true);
    this.internal.delete(c.id);
    this.fire(c.id, 'exit', true);
    // The other half goes with the same cause; a `;2` that was never called has none (0).
    const peer = c.peer ? this.channels.get(c.peer) : undefined;
    if (peer) this.hangup(peer.id, peer.name.endsWith(';2') && !peer.called ? 0 : cause);
  }

  /**
   * `TIMEOUT(absolute)=<seconds>` (func_timeout.c): the channel is hung up that long from now, by
   * Asterisk itself, whoever else is watching; 0 (or less, or not a number) cancels. Asterisk's
   * `ast_check_hangup` only raises the channel's TIMEOUT soft-hangup flag when the time comes: no
   * hangup request is published and no cause is set, so the channel leaves its bridge and Stasis
   * (ChannelLeftBridge, StasisEnd) and is destroyed with the cause it already had, usually none (0,
   * "Unknown"). A channel from the dialplan would go on at its context's `T` extension; the
   * simulator's dialplans have none, so it hangs up there.
   */
  setAbsoluteTimeout(c: SimChannel, seconds: number): void {
    clearTimeout(c.absoluteTimer);
    c.absoluteTimer = undefined;
    c.hangupAt = undefined;
    if (!(seconds > 0)) return;
    c.hangupAt = Date.now() + seconds * 1000;
    c.absoluteTimer = setTimeout(() => {
      if (this.channels.get(c.id) === c) this.hangup(c.id, c.hangupCause ?? 0, false, false);
    }, seconds * 1000);
    c.absoluteTimer.unref();
  }

  /**
   * Dials a channel made with channels/create. A Local channel's `;2` half starts its dialplan and
   * its progress comes back through the pair; a PJSIP endpoint answers by its configured behaviour.
   * A dial timeout hangs the channel up with cause 19 and no final Dial event.
   */
  dial(c: SimChannel, timeoutS: number): void {
    const peer = c.peer ? this.channels.get(c.peer) : undefined;
    if (peer && !this.callLocal(c, peer)) {
      // The call failed, so app_control_dial publishes no Dial and soft-hangs `;1` up
      // (AST_SOFTHANGUP_DEV: no hangup request is published); its hangup takes the never-called
      // `;2` first, both with no cause.
      this.later(c, 0, () => this.hangup(c.id, 0, false, false));
      return;
    }
    if (peer) {
      this.beginDial(c, { dialstring: c.endpoint ?? '', originate: false });
      if (timeoutS > 0) this.later(c, timeoutS * 1000, () => this.timeout(c));
      void this.runDialplan(peer, peer.dialplan.context, peer.dialplan.exten);
      return;
    }
    this.beginDial(c, { dialstring: c.endpoint ?? '', originate: false });
    const b = this.endpoints.get(c.endpoint ?? '') ?? {};
    const result = b.result ?? 'answer';
    const after = b.answerAfterMs ?? 50;
    // Facts: "" then RINGING then ANSWER; failures have NO final Dial event, only ChannelDestroyed.
    if (result === 'unavailable') return this.later(c, 5, () => this.hangup(c.id, 3));
    this.later(c, Math.min(5, after), () => this.setState(c, 'Ringing'));
    if (timeoutS > 0) this.later(c, timeoutS * 1000, () => this.timeout(c));
    if (result === 'noanswer') return;
    this.later(c, after, () => {
      if (result === 'busy') return this.hangup(c.id, 17);
      if (result === 'congestion') return this.hangup(c.id, 34);
      this.setState(c, 'Up');
      if (b.hangupAfterMs !== undefined) this.later(c, b.hangupAfterMs, () => this.hangup(c.id, 16));
    });
  }

  /** A dial that timed out: Asterisk hangs the dialled channel up (soft) with cause 19. */
  private timeout(c: SimChannel): void {
    c.dial = undefined;
    this.hangup(c.id, 19, true);
  }
}
