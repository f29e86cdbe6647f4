// Our ARI/AMI clients against the simulator: a whole call, error statuses, failure outcomes as real
// Asterisk reports them, reconnect + resync after a restart, and two nodes through the module.
import { describe, expect, it } from 'vitest';
import { AmiValueError, amiEventFilter } from '../../src/asterisk/ami.ts';
import { AriClient, AriError } from '../../src/asterisk/ari.ts';
import {
  createAsteriskModule,
  disallowedAriEvents,
  FILTERABLE_ARI_EVENTS,
  wantedAmiEvents,
} from '../../src/asterisk/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import type { Simulator, SimulatorOptions } from '../../src/simulator/index.ts';
import { runTraffic } from '../../src/simulator/traffic.ts';
import postgres from 'postgres';
import { cleanupEach } from '../helpers/cleanup.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { amiClient, ariClient } from '../helpers/sim-clients.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const cleanup = cleanupEach();

const sim = (o: SimulatorOptions = {}) => startSim(cleanup, { badLoginDelayMs: 50, ...o });
const backoff = { baseMs: 50, maxMs: 400 };
const ari = (s: Simulator, apps = ['capconduit']) => ariClient(s.ariUrl, cleanup, { apps, backoff });
const ami = (s: Simulator, secret = 'asterisk') => amiClient(s, cleanup, { secret, backoff }).c;

/** The daemon's asterisk module connected to simulators, by node id (not started). */
function asteriskModule(sims: Record<string, Simulator>) {
  const asteriskNodes = Object.entries(sims).map(([id, s]) => ({
    id,
    ariUrl: s.ariUrl,
    ariUser: 'asterisk',
    ariPassword: 'asterisk',
    amiHost: '127.0.0.1',
    amiPort: s.amiPort,
    amiUser: 'asterisk',
    amiSecret: 'asterisk',
  }));
  return createAsteriskModule({
    config: { ...testConfig(), asteriskNodes },
    log,
    metrics: createMetrics(),
  } as Parameters<typeof createAsteriskModule>[0]);
}

const once = (em: NodeJS.EventEmitter, ev: string) => new Promise<unknown>((r) => em.once(ev, r));

describe('ARI and AMI clients against the simulator', () => {
  it('sees a whole inbound call: AMI originate into Stasis, client leg create+dial, answer, bridge, hangup', async () => {
    const s = await sim({ endpoints: { 'client-a': { result: 'answer', answerAfterMs: 30 } } });
    const { c, events } = ari(s);
    const up = once(c, 'connected');
    c.start();
    await up;
    const m = ami(s);
    const mUp = once(m, 'connected');
    m.start();
    await mUp;
    const amiFrames: Record<string, string>[] = [];
    m.on('event', (ev: { fields: Record<string, string> }) => amiFrames.push(ev.fields));
    const r = await m.action('Originate', {
      Channel: 'Local/+14155550100@from-carrier',
      CallerID: '"Lead" <+12125550000>',
      // Asterisk needs somewhere to send the answered `;1` half: an application, or an extension.
      Application: 'Wait',
      Data: '3600',
      Async: 'true',
    });
    expect(r.response.fields.response).toBe('Success');
    const start = await waitFor(() => events.find((e) => e.type === 'StasisStart'));
    const caller = (
      start as {
        channel: { id: string; dialplan: { exten: string; context: string }; caller: { number: string } };
        args: string[];
      }
    ).channel;
    expect((start as { args: string[] }).args).toEqual(['inbound']);
    // The sample dialplan strips the + (exten => _+X.,1,Goto(from-carrier,${EXTEN:1},1)).
    expect(caller.dialplan.exten).toBe('14155550100');
    expect(caller.dialplan.context).toBe('from-carrier');
    expect(caller.caller.number).toBe('+12125550000');

    const leg = await c.channels.create({
      endpoint: 'PJSIP/client-a',
      app: 'capconduit',
      channelId: 'leg-1',
      appArgs: 'leg,call-1',
    });
    expect(leg.state).toBe('Down');
    await waitFor(() =>
      events.find(
        (e) => e.type === 'StasisStart' && (e as { channel: { id: string } }).channel.id === 'leg-1',
      ),
    );
    await c.channels.setVariable(caller.id, '_ONCE', 'o');
    await c.channels.setVariable(caller.id, 'CHANNEL(accountcode)', 'acct-7');
    await c.channels.dial('leg-1', { timeout: 10, caller: caller.id });
    await waitFor(() =>
      events.find((e) => e.type === 'Dial' && (e as { dialstatus: string }).dialstatus === 'ANSWER'),
    );
    const dials = events
      .filter((e) => e.type === 'Dial')
      .map((e) => (e as { dialstatus: string }).dialstatus);
    expect(dials).toEqual(['', 'RINGING', 'ANSWER']);
    // The caller given to the dial lends the leg its caller ID as the connected line, but no Dial
    // event names it (Asterisk publishes channels/dial's dial with no caller), on ARI or AMI.
    for (const e of events.filter((x) => x.type === 'Dial')) expect(e).not.toHaveProperty('caller');
    const begin = await waitFor(() =>
      amiFrames.find((f) => f.event === 'DialBegin' && f.destuniqueid === 'leg-1'),
    );
    expect(begin.dialstring).toBe('client-a');
    expect(begin).not.toHaveProperty('uniqueid');
    expect((await c.channels.get('leg-1')).connected.number).toBe('+12125550000');
    // and its inheritable variables (`_X` arrives as `X`, for one generation).
    expect(await c.channels.getVariable('leg-1', 'ONCE')).toBe('o');
    // and its account code (the leg's own, and its peer account).
    expect((await c.channels.get('leg-1')).accountcode).toBe('acct-7');
    expect(await c.channels.getVariable('leg-1', 'CHANNEL(peeraccount)')).toBe('acct-7');
    await c.channels.answer(caller.id);
    await c.bridges.create({ bridgeId: 'b-1' });
    await c.bridges.addChannel('b-1', [caller.id, 'leg-1']);
    expect((await c.bridges.get('b-1')).channels.sort()).toEqual([caller.id, 'leg-1'].sort());
    await c.channels.hangup('leg-1');
    const destroyed = await waitFor(() =>
      events.find(
        (e) => e.type === 'ChannelDestroyed' && (e as { channel: { id: string } }).channel.id === 'leg-1',
      ),
    );
    expect((destroyed as { cause: number }).cause).toBe(16);
    const req = events.find((e) => e.type === 'ChannelHangupRequest');
    expect(req).toMatchObject({ cause: 32, soft: true });
    // The other leg of the bridge stays up (Asterisk does not hang it up for us).
    // What is left is the caller: both halves of its Local channel (`;1` and `;2`).
    const left = await c.channels.list();
    expect(left.map((x) => x.id)).toContain(caller.id);
    expect(left.map((x) => x.name.slice(-2)).sort()).toEqual([';1', ';2']);
  });

  it('reports busy, congestion and unavailable only through ChannelDestroyed causes', async () => {
    const s = await sim({
      endpoints: {
        busy: { result: 'busy', answerAfterMs: 20 },
        cong: { result: 'congestion', answerAfterMs: 20 },
        gone: { result: 'unavailable' },
      },
    });
    const { c, events } = ari(s);
    const up = once(c, 'connected');
    c.start();
    await up;
    for (const [ep, cause] of [
      ['busy', 17],
      ['cong', 34],
      ['gone', 3],
    ] as const) {
      await c.channels.create({ endpoint: `PJSIP/${ep}`, app: 'capconduit', channelId: `l-${ep}` });
      await c.channels.dial(`l-${ep}`, { timeout: 5 });
      const d = await waitFor(() =>
        events.find(
          (e) => e.type === 'ChannelDestroyed' && (e as { channel: { id: string } }).channel.id === `l-${ep}`,
        ),
      );
      expect((d as { cause: number }).cause).toBe(cause);
      const finals = events
        .filter(
          (e) =>
            e.type === 'Dial' && (e as { peer: { id: string }; dialstatus: string }).peer.id === `l-${ep}`,
        )
        .map((e) => (e as { dialstatus: string }).dialstatus);
      expect(finals.some((x) => ['BUSY', 'CONGESTION', 'CHANUNAVAIL'].includes(x))).toBe(false);
    }
  });

  it('maps ARI error statuses to AriError', async () => {
    const s = await sim({ endpoints: { a: {} } });
    const { c } = ari(s);
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 0,
        (e: AriError) => (e instanceof AriError ? e.status : -1),
      );
    expect(await status(c.channels.get('nope'))).toBe(404);
    expect(
      await status(c.channels.create({ endpoint: 'PJSIP/unknown', app: 'capconduit', channelId: 'x' })),
    ).toBe(500);
    await c.bridges.create({ bridgeId: 'b' });
    expect(await status(c.bridges.addChannel('b', 'ghost'))).toBe(400);
    // An inbound call that left Stasis is not addable: 422; answering it is 409.
    s.placeInboundCall({ did: '+14155550100', callerNumber: '+12125550000' }); // no app: fails at once
    expect(s.stats.stasisFailed).toBe(1);
    await c.channels.create({ endpoint: 'PJSIP/a', app: 'capconduit', channelId: 'leg' });
    await c.channels.dial('leg');
    expect(await status(c.channels.dial('leg'))).toBe(409);
    expect(await status(c.channels.hangup('leg', 'bogus' as 'normal'))).toBe(400);
    const bad = new AriClient({ url: s.ariUrl, user: 'asterisk', password: 'wrong', apps: ['x'], log });
    expect(await status(bad.channels.list())).toBe(401);
  });

  it('refuses CR/LF in AMI values and refuses a wrong secret', async () => {
    const s = await sim();
    const m = ami(s);
    const up = once(m, 'connected');
    m.start();
    await up;
    await expect(
      m.action('Originate', { Channel: 'Local/1@from-carrier', CallerID: 'x\r\nAction: Command' }),
    ).rejects.toThrow(AmiValueError);
    expect(s.stats.inbound).toBe(0);
    const bad = ami(s, 'wrong');
    bad.start();
    await waitFor(() => bad.lastError?.includes('Authentication failed'));
    expect(bad.connected).toBe(false);
  });

  it('reconnects both links within 2 s of a restart and resyncs the live channels', async () => {
    const s = await sim({ endpoints: { a: { answerAfterMs: 10 } } });
    const { c } = ari(s);
    const m = ami(s);
    const up = Promise.all([once(c, 'connected'), once(m, 'connected')]);
    c.start();
    m.start();
    await up;
    s.placeInboundCall({ did: '+14155550100', callerNumber: '+1212' });
    const resync = new Promise<unknown[]>((r) => c.on('resync', (ch: unknown[]) => ch.length === 0 && r(ch)));
    const t0 = Date.now();
    await s.restart({ keepChannels: false, downMs: 200 });
    await Promise.all([once(c, 'connected'), once(m, 'connected')]);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await resync).toEqual([]); // the restart lost the call; resync tells the owner
    expect(c.reconnects).toBe(1);
    expect(m.reconnects).toBe(1);
  });

  it('connects two nodes through the asterisk module and reports them in readiness', async () => {
    const s1 = await sim();
    const s2 = await sim();
    const mod = asteriskModule({ n1: s1, n2: s2 });
    const seen: string[] = [];
    mod.onStasisStart('inbound', (nodeId) => seen.push(nodeId));
    await mod.start!();
    cleanup.push(() => mod.stop!());
    await waitFor(() => [...mod.nodes.values()].every((n) => n.ari.connected && n.ami.connected));
    for (const r of mod.readiness!) await r.check();
    s1.placeInboundCall({ did: '+14155550100', callerNumber: '1' });
    s2.placeInboundCall({ did: '+14155550101', callerNumber: '2' });
    await waitFor(() => seen.length === 2);
    expect(seen.sort()).toEqual(['n1', 'n2']);
    const down = once(mod.nodes.get('n2')!.ari, 'disconnected');
    s2.dropWebSockets();
    await down;
    await expect(mod.readiness!.find((r) => r.name === 'asterisk:n2')!.check()).rejects.toThrow(/ARI/);
    await once(mod.nodes.get('n2')!.ari, 'connected'); // and it comes back by itself
  });

  it('filters event types per app as Asterisk documents eventFilter, and the module sets it at every connect', async () => {
    const s = await sim({ endpoints: { 'client-a': { result: 'answer', answerAfterMs: 20 } } });
    const { c, events } = ari(s);
    const up = once(c, 'connected');
    c.start();
    await up;
    const put = (body: unknown) =>
      c.request<{ events_allowed: unknown[]; events_disallowed: unknown[] }>(
        'PUT',
        '/applications/capconduit/eventFilter',
        { body },
      );
    // Only the list given is set; the other one is kept.
    expect(await put({ disallowed: [{ type: 'ChannelVarset' }] })).toMatchObject({
      events_allowed: [],
      events_disallowed: [{ type: 'ChannelVarset' }],
    });
    expect(await put({ allowed: [{ type: 'StasisStart' }, { type: 'ChannelVarset' }] })).toMatchObject({
      events_allowed: [{ type: 'StasisStart' }, { type: 'ChannelVarset' }],
      events_disallowed: [{ type: 'ChannelVarset' }],
    });
    await expect(put({ allowed: 'StasisStart' })).rejects.toMatchObject({ status: 400 });
    await expect(put({ disallowed: [{ name: 'x' }] })).rejects.toMatchObject({ status: 400 });
    await expect(c.request('PUT', '/applications/nobody/eventFilter', { body: {} })).rejects.toMatchObject({
      status: 404,
    });
    // Allowed StasisStart and ChannelVarset, but disallowed wins: only StasisStart arrives.
    s.placeInboundCall({ did: '+14155550100', callerNumber: '+12125550000' });
    const start = await waitFor(() => events.find((e) => e.type === 'StasisStart'));
    const callerId = (start as { channel: { id: string } }).channel.id;
    await c.channels.setVariable(callerId, 'X', '1');
    await c.channels.hangup(callerId);
    await waitFor(async () => (await c.channels.list()).length === 0);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['StasisStart']));
    // An empty body empties both lists.
    expect(await put({})).toMatchObject({ events_allowed: [], events_disallowed: [] });

    // The module: handlers name their types; what nobody names is disallowed, set at each connect.
    expect(disallowedAriEvents([['Dial'], undefined])).toEqual([]);
    const wanted = disallowedAriEvents([['Dial', 'ChannelDestroyed']]);
    expect(wanted).not.toContain('Dial');
    expect(wanted).toContain('ChannelVarset');
    expect(wanted.length).toBe(FILTERABLE_ARI_EVENTS.length - 2);
    const mod = asteriskModule({ n1: s });
    const seen: string[] = [];
    mod.onAriEvent((_n, e) => seen.push(e.type), ['StasisEnd']);
    await mod.start!();
    cleanup.push(() => mod.stop!());
    const node = mod.nodes.get('n1')!;
    const app = mod.apps[0]!;
    const filterOf = () =>
      node.ari.request<{ events_disallowed: Array<{ type: string }> }>('GET', `/applications/${app}`);
    await waitFor(() => node.ari.connected);
    const filtered = async () => (await filterOf()).events_disallowed.some((x) => x.type === 'ChannelVarset');
    await waitFor(filtered);
    s.placeInboundCall({ did: '+14155550100', callerNumber: '+12125550000' });
    await waitFor(() => seen.includes('StasisStart'));
    // The `;2` half is the one in Stasis (the `;1` half would answer 409).
    const id = (await node.ari.channels.list()).find((x) => x.name.endsWith(';2'))!.id;
    await node.ari.channels.setVariable(id, 'X', '1');
    await node.ari.channels.hangup(id);
    // A channel that entered Stasis from the dialplan ends in the app with StasisEnd.
    await waitFor(() => seen.includes('StasisEnd'));
    expect(seen).not.toContain('ChannelVarset');
    expect(seen).not.toContain('ChannelHangupRequest');
    // Set again after a reconnect (a restarted Asterisk forgets it).
    await put({});
    const back = once(node.ari, 'connected');
    s.dropWebSockets();
    await back;
    await waitFor(filtered);
  });

  it('asks each AMI session for only the events its handlers name, again after every login', async () => {
    expect(wantedAmiEvents([['Hangup'], undefined])).toBeNull();
    expect(wantedAmiEvents([['Hangup'], ['Cdr', 'Hangup']])).toEqual(['Cdr', 'Hangup']);
    expect(wantedAmiEvents([])).toEqual([]);
    expect(amiEventFilter(['Cdr', 'Hangup'])).toBe('(^|[[:space:]])Event: (Cdr|Hangup)[[:space:]]');
    expect(() => amiEventFilter(['Hangup|.*'])).toThrow();
    const s = await sim();
    const mod = asteriskModule({ n1: s });
    const seen: string[] = [];
    mod.onAmiEvent((_n, e) => seen.push(e.event), ['Hangup']);
    await mod.start!();
    cleanup.push(() => mod.stop!());
    const node = mod.nodes.get('n1')!;
    await waitFor(() => node.ami.eventFilter === 'Hangup');
    // A call brings Newchannel, Newstate, HangupRequest... on the wire; only Hangups are sent here.
    const callAndHangUp = async (caller: string) => {
      s.placeInboundCall({ did: '+14155550100', callerNumber: caller });
      await waitFor(async () => (await node.ari.channels.list()).length > 0 || undefined);
      // Hanging one half of the Local pair up takes the other with it.
      for (const c of await node.ari.channels.list()) await node.ari.channels.hangup(c.id).catch(() => {});
    };
    await waitFor(() => node.ari.connected);
    await callAndHangUp('+12125550000');
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['Hangup', 'Hangup']);
    expect(node.health().ami.events).toBe('Hangup');
    // A restarted Asterisk forgets session filters: set again after the reconnect.
    const back = once(node.ami, 'connected');
    s.dropAmi();
    await back;
    await waitFor(() => node.ami.eventFilter === 'Hangup');
    await callAndHangUp('+12125550001');
    await waitFor(() => seen.length === 4);
    expect(seen).toEqual(['Hangup', 'Hangup', 'Hangup', 'Hangup']);

    // No handler at all: events off.
    const quiet = asteriskModule({ n1: s });
    await quiet.start!();
    cleanup.push(() => quiet.stop!());
    await waitFor(() => quiet.nodes.get('n1')!.ami.eventFilter === 'off');
  });

  it('answers Command, CoreStatus, Reload and the PJSIP endpoint lists over AMI', async () => {
    const s = await sim({ endpoints: { 'client-a': {}, 'client-b': {} } });
    const m = ami(s);
    const up = once(m, 'connected');
    m.start();
    await up;
    const cmd = await m.action('Command', { Command: 'core show uptime' });
    expect(cmd.response.fields.message).toBe('Command output follows');
    expect(cmd.response.multi.output?.[0]).toMatch(/^System uptime: \d+ seconds$/);
    expect((await m.action('CoreStatus')).response.fields.corecurrentcalls).toBe('0');
    expect((await m.action('Reload', { Module: 'res_pjsip.so' })).response.fields.message).toBe(
      'Module Reloaded',
    );
    const list = await m.action('PJSIPShowEndpoints');
    expect(list.events.map((e) => e.fields.objectname)).toEqual(['client-a', 'client-b']);
    // A configured endpoint is a pjsip.conf one: on the transport, with an AOR of its own name
    // holding a static contact; res_pjsip lists each of those objects after the endpoint.
    const one = await m.action('PJSIPShowEndpoint', { Endpoint: 'PJSIP/client-b' });
    expect(one.events.map((e) => e.event)).toEqual([
      'EndpointDetail',
      'TransportDetail',
      'AorDetail',
      'ContactStatusDetail',
    ]);
    expect(one.events[0]!.fields.devicestate).toBe('Not in use');
    await expect(m.action('PJSIPShowEndpoint', { Endpoint: 'nope' })).rejects.toThrow(
      /Unable to retrieve endpoint nope/,
    );
    await expect(m.action('Bogus')).rejects.toThrow(/Invalid\/unknown command/);
  });

  it('finds PJSIP endpoints in the realtime table at once, and fails deleted ones like Asterisk', async () => {
    const db = await freshDatabase();
    cleanup.push(() => db.drop());
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end());
    // The tables are Asterisk's realtime ones from the asterisk_realtime migration.
    const s = await sim({ databaseUrl: db.url });
    const { c } = ari(s);
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: AriError) => e.status,
      );
    expect(
      await status(c.channels.create({ endpoint: 'PJSIP/1001', app: 'capconduit', channelId: 'x1' })),
    ).toBe(500);
    await sql`insert into ps_endpoints (id, aors) values ('1001', '1001')`;
    await sql`insert into ps_aors (id) values ('1001')`;
    // Like chan_pjsip: an endpoint whose AOR has no contact (not registered, no static contact)
    // cannot be dialled.
    expect(
      await status(c.channels.create({ endpoint: 'PJSIP/1001', app: 'capconduit', channelId: 'x0' })),
    ).toBe(500);
    // A registration as Asterisk 22's realtime stores it: `<aor>;@<hash>` with the `;` escaped.
    await sql`insert into ps_contacts (id, uri, endpoint) values ('1001^3B@abc', 'sip:1001@127.0.0.1:5062', '1001')`;
    expect(
      await status(c.channels.create({ endpoint: 'PJSIP/1001', app: 'capconduit', channelId: 'x2' })),
    ).toBe(200);
    await sql`delete from ps_endpoints where id = '1001'`;
    expect(
      await status(c.channels.create({ endpoint: 'PJSIP/1001', app: 'capconduit', channelId: 'x3' })),
    ).toBe(500);
  });

  it('StasisBroadcast: the first claim wins, the other gets 409, the winner gets StasisStart', async () => {
    const s = await sim({ broadcastTimeoutMs: 2000 });
    const a = ari(s, ['capconduit-a']);
    const b = ari(s, ['capconduit-b']);
    const up = Promise.all([once(a.c, 'connected'), once(b.c, 'connected')]);
    a.c.start();
    b.c.start();
    await up;
    const id = s.placeInboundCall({
      did: '+14155550100',
      callerNumber: '+1212',
      context: 'from-carrier-broadcast',
    });
    await waitFor(
      () =>
        a.events.find((e) => e.type === 'CallBroadcast') && b.events.find((e) => e.type === 'CallBroadcast'),
    );
    const results = await Promise.all([
      a.c.events.claim(id, 'capconduit-a').then(
        () => 204,
        (e: AriError) => e.status,
      ),
      b.c.events.claim(id, 'capconduit-b').then(
        () => 204,
        (e: AriError) => e.status,
      ),
    ]);
    expect([...results].sort()).toEqual([204, 409]);
    const winner = results[0] === 204 ? a : b;
    await waitFor(() => winner.events.find((e) => e.type === 'StasisStart'));
    expect(
      await a.c.events.claim('nope', 'capconduit-a').then(
        () => 204,
        (e: AriError) => e.status,
      ),
    ).toBe(404);
  });

  it('generates traffic at a rate and reports failures by cause', async () => {
    const s = await sim();
    // No Stasis app holds `capconduit`: every call fails in the dialplan with congestion (34).
    const r = await runTraffic(s, {
      ratePerS: 50,
      durationS: 0.5,
      dids: ['+14155550100'],
      callers: ['+1212'],
      talkMs: [100, 200],
    }).done;
    // With a duration the count is rate x duration, whatever the timer ticks under load.
    expect(r.started).toBe(25);
    expect(r.failedByCause).toEqual({ '34': r.started });
  });

  it('models both halves of Local channels: AMI Originate with Wait hangs the call up after the talk time', async () => {
    const s = await sim();
    const { c, events } = ari(s);
    const up = once(c, 'connected');
    c.start();
    await up;
    const m = ami(s);
    const mUp = once(m, 'connected');
    m.start();
    await mUp;
    await m.action('Originate', {
      Channel: 'Local/14155550100@from-carrier',
      Application: 'Wait',
      Data: '0.2',
      CallerID: '+1212',
      Async: 'true',
    });
    const start = await waitFor(() => events.find((e) => e.type === 'StasisStart'));
    const id = (start as { channel: { id: string } }).channel.id;
    const names = s.liveChannels().map((x) => x.name);
    expect(names.filter((n) => n.endsWith(';1'))).toHaveLength(1);
    expect(names.filter((n) => n.endsWith(';2'))).toHaveLength(1);
    await c.channels.answer(id); // answering ;2 answers ;1, whose Wait(0.2) then ends the call
    // The hangup reaches ;2 from ;1 with its cause; ;2 entered Stasis from the dialplan, so the
    // app sees it leave (StasisEnd) and no ChannelDestroyed.
    const req = await waitFor(() =>
      events.find(
        (e) => e.type === 'ChannelHangupRequest' && (e as { channel: { id: string } }).channel.id === id,
      ),
    );
    expect((req as { cause: number }).cause).toBe(16);
    await waitFor(() =>
      events.find((e) => e.type === 'StasisEnd' && (e as { channel: { id: string } }).channel.id === id),
    );
    expect(events.some((e) => e.type === 'ChannelDestroyed')).toBe(false);
    expect(s.liveChannels()).toEqual([]);
  });

  it('ARI originate of a Local channel returns its ;1 half; a second WebSocket for an app replaces the first', async () => {
    const s = await sim();
    const first = ari(s);
    const up1 = once(first.c, 'connected');
    first.c.start();
    await up1;
    const one = await first.c.channels.originate({
      endpoint: 'Local/14155550100@from-carrier',
      channelId: 'orig-1',
      app: 'capconduit',
      appArgs: 'originator',
    });
    expect(one.id).toBe('orig-1');
    expect(one.name.endsWith(';1')).toBe(true);
    // The `;1` half enters the app once the far side (`;2`, in Stasis from the dialplan) answers.
    const inbound = await waitFor(() => first.events.find((e) => e.type === 'StasisStart'));
    await first.c.channels.answer((inbound as { channel: { id: string } }).channel.id);
    await waitFor(() => first.events.filter((e) => e.type === 'StasisStart').length === 2);
    const args = first.events
      .filter((e) => e.type === 'StasisStart')
      .map((e) => (e as { args: string[] }).args[0]);
    expect(args.sort()).toEqual(['inbound', 'originator']);

    const second = ari(s);
    const up2 = once(second.c, 'connected');
    second.c.start();
    await up2;
    await waitFor(() => first.events.find((e) => e.type === 'ApplicationReplaced'));
    expect(first.c.replaced).toBe(true);
    s.placeInboundCall({ did: '14155550101', callerNumber: '+1' });
    await waitFor(() => second.events.find((e) => e.type === 'StasisStart'));
  });
});
