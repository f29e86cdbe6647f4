// Applications' event subscriptions, device states, sounds, mailboxes and user events as Asterisk
// 22 answers them (res_stasis.c, res_stasis_device_state.c, resource_*.c): a subscribed app hears
// the subscribed channel's events, DeviceStateChanged reaches subscribers only, and the statuses
// and messages are Asterisk's.
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { ariRest, holdApp, startSim } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

type Ev = { type: string; application: string } & Record<string, unknown>;

async function setup() {
  const s = await startSim(cleanup);
  const events: Ev[] = [];
  const hold = async (app: string) => {
    const ws = await holdApp(s, app, cleanup);
    ws.on('message', (d) => events.push(JSON.parse(String(d)) as Ev));
  };
  const ari = ariRest(s);
  return { s, ari, hold, events };
}

describe('simulator application subscriptions', () => {
  it('a subscribed app hears the channel it subscribed to; unsubscribing stops it', async () => {
    const { ari, hold, events } = await setup();
    await hold('owner');
    await hold('watcher');
    await ari('POST', 'channels/create?endpoint=Local/s@nowhere&app=owner&channelId=sub-1');
    const sub = await ari('POST', 'applications/watcher/subscription?eventSource=channel:sub-1');
    expect(sub.status).toBe(200);
    expect(sub.body.channel_ids).toEqual(['sub-1']);
    // The owner is subscribed to what it made and holds in Stasis.
    expect((await ari('GET', 'applications/owner')).body.channel_ids).toEqual(['sub-1']);
    await ari('POST', 'channels/sub-1/variable?variable=X&value=1');
    await waitFor(() => events.some((e) => e.type === 'ChannelVarset' && e.application === 'watcher'));
    // (The owner also heard STASISSTATUS emptied as its channel entered Stasis.)
    expect(
      events
        .filter((e) => e.type === 'ChannelVarset' && e.variable === 'X')
        .map((e) => e.application)
        .sort(),
    ).toEqual(['owner', 'watcher']);
    expect((await ari('DELETE', 'applications/watcher/subscription?eventSource=channel:sub-1')).status).toBe(
      200,
    );
    expect((await ari('DELETE', 'applications/watcher/subscription?eventSource=channel:sub-1')).body).toEqual(
      {
        message: 'Event source was not subscribed to',
      },
    );
    await ari('POST', 'channels/sub-1/variable?variable=X&value=2');
    // A user event to the watcher after it: its socket would have carried the varset before it.
    await ari('POST', 'events/user/mark?application=watcher');
    await waitFor(() => events.some((e) => e.type === 'ChannelUserevent'));
    expect(events.filter((e) => e.type === 'ChannelVarset' && e.application === 'watcher')).toHaveLength(1);
    // StasisStart/StasisEnd stay the owner's.
    expect(events.filter((e) => e.type === 'StasisStart').map((e) => e.application)).toEqual(['owner']);
  });

  it('answers as stasis_app_subscribe: bad scheme 400, missing object 422, unknown app 404', async () => {
    const { ari, hold } = await setup();
    await hold('a1');
    expect((await ari('POST', 'applications/a1/subscription')).body).toEqual({
      message: 'Missing parameter eventSource',
    });
    expect((await ari('POST', 'applications/a1/subscription?eventSource=mailbox:1')).body).toEqual({
      message: 'Invalid event source URI scheme',
    });
    expect((await ari('POST', 'applications/a1/subscription?eventSource=channel:nope')).body).toEqual({
      message: 'Event source does not exist',
    });
    expect((await ari('POST', 'applications/nope/subscription?eventSource=channel:')).status).toBe(404);
    // An empty id is every object of the kind, never looked up.
    const all = await ari('POST', 'applications/a1/subscription?eventSource=bridge:,deviceState:Stasis:lamp');
    expect(all.body).toMatchObject({ bridge_ids: [''], device_names: ['Stasis:lamp'] });
  });
});

describe('simulator device states', () => {
  it('sends DeviceStateChanged to subscribed apps only, and answers with Asterisk statuses', async () => {
    const { ari, hold, events } = await setup();
    await hold('lamps');
    await hold('other');
    await ari('POST', 'applications/lamps/subscription?eventSource=deviceState:Stasis:lamp');
    expect((await ari('PUT', 'deviceStates/Stasis:lamp?deviceState=inuse')).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'DeviceStateChanged'));
    expect(events.filter((e) => e.type === 'DeviceStateChanged')).toEqual([
      expect.objectContaining({
        application: 'lamps',
        device_state: { name: 'Stasis:lamp', state: 'INUSE' },
      }),
    ]);
    expect((await ari('GET', 'deviceStates/Stasis:lamp')).body).toEqual({
      name: 'Stasis:lamp',
      state: 'INUSE',
    });
    expect((await ari('PUT', 'deviceStates/PJSIP:x?deviceState=INUSE')).body).toEqual({
      message: 'Uncontrolled device specified',
    });
    expect((await ari('PUT', 'deviceStates/Stasis:?deviceState=INUSE')).body).toEqual({
      message: 'Device name is missing',
    });
    expect(await ari('PUT', 'deviceStates/Stasis:lamp?deviceState=GLOWING')).toEqual({
      status: 500,
      body: { message: 'Unknown device' },
    });
    // Deleting one never set is accepted and says nothing.
    expect((await ari('DELETE', 'deviceStates/Stasis:never')).status).toBe(204);
    expect((await ari('DELETE', 'deviceStates/Stasis:lamp')).status).toBe(204);
    await waitFor(() => events.filter((e) => e.type === 'DeviceStateChanged').length === 2);
    expect(events.at(-1)).toMatchObject({ device_state: { name: 'Stasis:lamp', state: 'UNKNOWN' } });
  });
});

describe('simulator sounds, mailboxes, user events and broadcast claims', () => {
  it('filters sounds by language and format (404 when nothing matches); text only when there is one', async () => {
    const { ari } = await setup();
    const list = await ari('GET', 'sounds?lang=en&format=gsm');
    expect(list.status).toBe(200);
    expect((list.body as unknown as Array<{ id: string }>).map((x) => x.id)).toContain('hello-world');
    expect((await ari('GET', 'sounds?lang=fr')).body).toEqual({
      message: 'No sounds found that matched the query',
    });
    expect((await ari('GET', 'sounds/silence')).body).toEqual({
      id: 'silence',
      formats: [{ language: 'en', format: 'gsm' }],
    });
    expect((await ari('GET', 'sounds/nope')).status).toBe(404);
  });

  it('answers mailboxes as resource_mailboxes.c, typo and all', async () => {
    const { ari } = await setup();
    expect((await ari('GET', 'mailboxes/1000')).body).toEqual({ message: 'Mailbox is does not exist' });
    expect((await ari('PUT', 'mailboxes/1000?newMessages=2')).status).toBe(204);
    expect((await ari('GET', 'mailboxes/1000')).body).toEqual({
      name: '1000',
      old_messages: 0,
      new_messages: 2,
    });
    expect((await ari('DELETE', 'mailboxes/1000')).status).toBe(204);
    expect((await ari('DELETE', 'mailboxes/1000')).body).toEqual({ message: 'Mailbox does not exist' });
  });

  it('sends a user event with its sources, refusing a bad scheme (400) and a missing source (422)', async () => {
    const { ari, hold, events } = await setup();
    await hold('ue');
    await ari('POST', 'channels/create?endpoint=Local/s@nowhere&app=ue&channelId=ue-1');
    expect((await ari('POST', 'events/user/ping?application=ue&source=mailbox:1')).body).toEqual({
      message: 'Invalid event source URI scheme',
    });
    expect((await ari('POST', 'events/user/ping?application=ue&source=channel:nope')).body).toEqual({
      message: 'Event source was not found',
    });
    expect(
      (await ari('POST', 'events/user/ping?application=ue&source=channel:ue-1', { variables: { a: '1' } }))
        .status,
    ).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'ChannelUserevent'));
    expect(events.find((e) => e.type === 'ChannelUserevent')).toMatchObject({
      eventname: 'ping',
      userevent: { a: '1', eventname: 'ping' },
      channel: { id: 'ue-1' },
    });
  });

  it('a claim of no offer is 404 with the message of res_stasis_broadcast', async () => {
    const { ari } = await setup();
    expect((await ari('POST', 'events/claim?channelId=nope&application=x')).body).toEqual({
      message: 'Channel not found or not in broadcast state',
    });
    expect((await ari('POST', 'events/claim?application=x')).body).toEqual({
      message: 'channelId parameter is required',
    });
  });
});
