// Device and endpoint state as Asterisk publishes them: a phone registering and unregistering a
// contact (res_pjsip: AMI ContactStatus and PeerStatus, ARI ContactStatusChange, EndpointStateChange
// and PeerStatusChange to the apps subscribed to the endpoint), a call on the endpoint (its
// snapshot's channel_ids, its channels' events forwarded to the endpoint's subscribers), and the
// device's state (AMI DeviceStateChange, ARI DeviceStateChanged to `deviceState:` subscribers) for
// PJSIP endpoints (UNAVAILABLE while offline) and Local channels.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { holdApp } from '../helpers/sim-ari.ts';
import { freshDatabase } from '../helpers/env.ts';
import { simAmi } from '../helpers/sim-ami.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

let db: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  db = await freshDatabase();
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  await sql`insert into ps_aors (id, max_contacts) values ('phone1', 1)`;
  await sql`insert into ps_endpoints (id, transport, aors, context) values ('phone1', 'transport-udp', 'phone1', 'internal')`;
  await sql.end();
});
afterAll(() => db?.drop());

// Events and answers are read as Asterisk's JSON, field by field, as the assertions name them.
// biome-ignore lint/suspicious/noExplicitAny: the test reads nested JSON fields of many event types
type Ev = Record<string, any>;

async function setup(sources: string[]) {
  const { s, ami } = await simAmi(cleanup, { databaseUrl: db.url });
  const ws = await holdApp(s, 'watch', cleanup);
  const events: Ev[] = [];
  ws.on('message', (d) => events.push(JSON.parse(String(d))));
  const ari = async (method: string, path: string) => {
    const r = await fetch(
      `${s.ariUrl}/ari/${path}${path.includes('?') ? '&' : '?'}api_key=asterisk:asterisk`,
      {
        method,
      },
    );
    return { status: r.status, body: r.status === 204 ? null : ((await r.json()) as Ev) };
  };
  const sub = await ari('POST', `applications/watch/subscription?eventSource=${sources.join(',')}`);
  expect(sub.status).toBe(200);
  return { s, ami, ari, events };
}

const phone = { aor: 'phone1', uri: 'sip:phone1@192.0.2.10:5060' };

describe('PJSIP endpoint and contact state', () => {
  it('a registration brings the endpoint online, an unregistration takes it offline: AMI and ARI in order', async () => {
    const { s, ami, ari, events } = await setup(['endpoint:PJSIP/phone1', 'deviceState:PJSIP/phone1']);
    expect((await ari('GET', 'endpoints/PJSIP/phone1')).body!.state).toBe('offline');
    const id = await s.registerContact(phone);
    expect(id).toMatch(/^phone1\^3B@[0-9a-f]{32}$/);
    await waitFor(() => events.some((e) => e.type === 'DeviceStateChanged'));
    const system = () =>
      ami.frames
        .filter((f) => ['ContactStatus', 'PeerStatus', 'DeviceStateChange'].includes(f.Event ?? ''))
        .map((f) => `${f.Event}:${f.ContactStatus ?? f.PeerStatus ?? `${f.Device}=${f.State}`}`);
    await waitFor(() => system().length === 3);
    expect(system()).toEqual([
      'ContactStatus:NonQualified',
      'PeerStatus:Reachable',
      'DeviceStateChange:PJSIP/phone1=NOT_INUSE',
    ]);
    const contact = ami.frames.find((f) => f.Event === 'ContactStatus')!;
    expect(Object.keys(contact)).toEqual([
      'Event',
      'Privilege',
      'URI',
      'ContactStatus',
      'AOR',
      'EndpointName',
      'RoundtripUsec',
    ]);
    expect([contact.Privilege, contact.URI, contact.AOR, contact.EndpointName]).toEqual([
      'system,all',
      phone.uri,
      'phone1',
      'phone1',
    ]);
    const seen = () =>
      events.map((e) =>
        e.type === 'ContactStatusChange'
          ? `${e.type}:${e.contact_info.contact_status}`
          : e.type === 'EndpointStateChange'
            ? `${e.type}:${e.endpoint.state}:${e.endpoint.channel_ids.length}`
            : e.type === 'PeerStatusChange'
              ? `${e.type}:${e.peer.peer_status}`
              : e.type === 'DeviceStateChanged'
                ? `${e.type}:${e.device_state.state}`
                : e.type,
      );
    expect(seen()).toEqual([
      'ContactStatusChange:NonQualified',
      'EndpointStateChange:online:0',
      'PeerStatusChange:Reachable',
      'DeviceStateChanged:NOT_INUSE',
    ]);
    expect((await ari('GET', 'endpoints/PJSIP/phone1')).body!.state).toBe('online');
    // A refresh of the same registration publishes nothing.
    await s.registerContact(phone);
    expect(events).toHaveLength(4);

    expect(await s.unregisterContact(phone)).toBe(true);
    await waitFor(() => events.filter((e) => e.type === 'DeviceStateChanged').length === 2);
    expect(seen().slice(4)).toEqual([
      'ContactStatusChange:Removed',
      'EndpointStateChange:offline:0',
      'PeerStatusChange:Unreachable',
      'DeviceStateChanged:UNAVAILABLE',
    ]);
    await waitFor(() => system().length === 6);
    expect(system().slice(3)).toEqual([
      'ContactStatus:Removed',
      'PeerStatus:Unreachable',
      'DeviceStateChange:PJSIP/phone1=UNAVAILABLE',
    ]);
    expect(await s.unregisterContact(phone)).toBe(false);
  });

  it('a call on the endpoint: its snapshot lists the channel, the device rings then is in use, the channel events reach the endpoint subscriber', async () => {
    const { s, ari, events } = await setup(['endpoint:PJSIP/phone1', 'deviceState:PJSIP/phone1']);
    await s.registerContact(phone);
    await waitFor(() => events.some((e) => e.type === 'DeviceStateChanged'));
    events.length = 0;
    const made = await ari('POST', 'channels?endpoint=PJSIP/phone1&app=other');
    expect(made.status).toBe(200);
    const ch = made.body!.id as string;
    await waitFor(() =>
      events.some((e) => e.type === 'DeviceStateChanged' && e.device_state.state === 'INUSE'),
    );
    const first = events.find((e) => e.type === 'EndpointStateChange')!;
    expect(first.endpoint).toEqual({
      technology: 'PJSIP',
      resource: 'phone1',
      state: 'online',
      channel_ids: [ch],
    });
    expect(events.filter((e) => e.type === 'DeviceStateChanged').map((e) => e.device_state.state)).toEqual([
      'RINGING',
      'INUSE',
    ]);
    // ast_channel_forward_endpoint: the channel's own events reach the endpoint's subscriber.
    expect(events.some((e) => e.type === 'ChannelStateChange' && e.channel.id === ch)).toBe(true);
    expect((await ari('DELETE', `channels/${ch}`)).status).toBe(204);
    await waitFor(() =>
      events.some((e) => e.type === 'DeviceStateChanged' && e.device_state.state === 'NOT_INUSE'),
    );
    const last = events.filter((e) => e.type === 'EndpointStateChange').at(-1)!;
    expect(last.endpoint.channel_ids).toEqual([]);
    await s.unregisterContact(phone);
  });
});

describe('Local channel device state over ARI', () => {
  it('an app subscribed to every device hears a Local device go in use and back', async () => {
    const { ari, events } = await setup(['deviceState:']);
    const made = await ari('POST', 'channels?endpoint=Local/answer@capconduit-test&app=other');
    expect(made.status).toBe(200);
    await waitFor(() =>
      events.some(
        (e) => e.device_state?.name === 'Local/answer@capconduit-test' && e.device_state.state === 'INUSE',
      ),
    );
    await ari('DELETE', `channels/${made.body!.id}`);
    await waitFor(() =>
      events.some(
        (e) =>
          e.device_state?.name === 'Local/answer@capconduit-test' && e.device_state.state === 'NOT_INUSE',
      ),
    );
    expect(events.every((e) => e.type === 'DeviceStateChanged')).toBe(true);
  });
});
