// The /asterisk and the remaining /channels operations as Asterisk 22's resource_asterisk.c and
// resource_channels.c answer them: dynamic configuration of res_pjsip's objects (read from and
// written to the realtime tables; read-only without them), modules and log channels, continue
// with a label, snoop's checks in their order, RTP statistics by time, external media's checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { holdApp, startSim } from '../helpers/sim-ari.ts';
import { freshDatabase } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

let db: Awaited<ReturnType<typeof freshDatabase>>;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db.drop();
});

const cleanup = cleanupEach();

type Ev = { type: string } & Record<string, unknown>;

async function setup(o: { databaseUrl?: string } = {}) {
  const s = await startSim(cleanup, { ...o });
  const ws = await holdApp(s, 'capconduit', cleanup);
  const events: Ev[] = [];
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as Ev));
  const ari = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(
      `${s.ariUrl}/ari/${path}${path.includes('?') ? '&' : '?'}api_key=asterisk:asterisk`,
      {
        method,
        ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      },
    );
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };
  return { s, ari, events };
}

const attr = (body: unknown, name: string) =>
  (body as Array<{ attribute: string; value: string }>).find((t) => t.attribute === name)?.value;

describe('simulator /asterisk', () => {
  it('reads res_pjsip objects as ConfigTuples, and cannot write pjsip.conf ones (403)', async () => {
    const { s, ari } = await setup();
    s.setEndpoint('client9', { result: 'answer' });
    const got = await ari('GET', 'asterisk/config/dynamic/res_pjsip/endpoint/client9');
    expect(got.status).toBe(200);
    expect(attr(got.body, 'aors')).toBe('client9');
    expect(attr(got.body, 'context')).toBe('default');
    expect(attr(got.body, 'transport')).toBe('transport-udp');
    expect((await ari('GET', 'asterisk/config/dynamic/res_pjsip/transport/transport-udp')).status).toBe(200);
    expect((await ari('GET', 'asterisk/config/dynamic/res_nope/endpoint/x')).body).toEqual({
      message: "configClass 'res_nope' not found",
    });
    expect((await ari('GET', 'asterisk/config/dynamic/res_pjsip/widget/x')).body).toEqual({
      message: "objectType 'widget' not found",
    });
    expect((await ari('GET', 'asterisk/config/dynamic/res_pjsip/endpoint/nope')).body).toEqual({
      message: "Object with id 'nope' not found",
    });
    expect(
      (
        await ari('PUT', 'asterisk/config/dynamic/res_pjsip/endpoint/client9', {
          fields: [{ attribute: 'context', value: 'x' }],
        })
      ).body,
    ).toEqual({ message: "Cannot update sorcery objects of type 'endpoint'" });
    expect((await ari('DELETE', 'asterisk/config/dynamic/res_pjsip/endpoint/client9')).body).toEqual({
      message: "Could not delete object with id 'client9'",
    });
  });

  it('creates, updates and deletes realtime objects in the PJSIP tables', async () => {
    const { ari } = await setup({ databaseUrl: db.url });
    const path = 'asterisk/config/dynamic/res_pjsip/endpoint/dyn1';
    expect((await ari('PUT', path, { fields: [{ attribute: 'colour', value: 'blue' }] })).body).toEqual({
      message: "Creation of object 'dyn1' failed field value validation",
    });
    const made = await ari('PUT', path, {
      fields: [
        { attribute: 'context', value: 'from-client' },
        { attribute: 'aors', value: 'dyn1' },
      ],
    });
    expect(made.status).toBe(200);
    expect(attr(made.body, 'context')).toBe('from-client');
    expect((await ari('PUT', path)).body).toEqual({
      message: "Fields must be provided to update object 'dyn1'",
    });
    const upd = await ari('PUT', path, { fields: [{ attribute: 'context', value: 'elsewhere' }] });
    expect(attr(upd.body, 'context')).toBe('elsewhere');
    // ARI's endpoints see it (res_pjsip's persistent endpoint).
    expect((await ari('GET', 'endpoints/PJSIP/dyn1')).status).toBe(200);
    expect((await ari('DELETE', path)).status).toBe(204);
    expect((await ari('GET', path)).status).toBe(404);
  });

  it('unloads a module nothing needs, refuses one others need, declines one it does not have', async () => {
    const { ari } = await setup();
    expect((await ari('DELETE', 'asterisk/modules/res_stasis.so')).body).toEqual({
      message: 'Module could not be unloaded',
    });
    expect((await ari('DELETE', 'asterisk/modules/app_dial.so')).status).toBe(204);
    expect((await ari('GET', 'asterisk/modules/app_dial.so')).status).toBe(404);
    // Reload (PUT) knows only running modules.
    expect((await ari('PUT', 'asterisk/modules/app_dial.so')).body).toEqual({
      message: 'Module not found in running modules',
    });
    expect((await ari('POST', 'asterisk/modules/app_dial.so')).status).toBe(204);
    expect((await ari('POST', 'asterisk/modules/app_dial.so')).body).toEqual({
      message: 'Module is already loaded',
    });
    expect((await ari('POST', 'asterisk/modules/res_nothing.so')).body).toEqual({
      message: 'Module load declined',
    });
    expect((await ari('POST', 'asterisk/logging/debug')).body).toEqual({
      message: 'Configuration levels are required',
    });
    expect((await ari('POST', 'asterisk/logging/console?configuration=debug')).body).toEqual({
      message: 'Log channel already exists',
    });
  });
});

describe('simulator /channels, the rest', () => {
  it('continues at a label, refusing one the dialplan does not have (404)', async () => {
    const { s, ari, events } = await setup();
    const id = s.placeInboundCall({ did: '14155550100', callerNumber: '12125550100' });
    await waitFor(() => events.some((e) => e.type === 'StasisStart'));
    expect(
      (await ari('POST', `channels/${id}/continue?context=from-carrier&extension=_X.&label=nolabel`)).body,
    ).toEqual({ message: 'Requested label can not be found' });
    expect((await ari('POST', `channels/${id}/continue?label=0`)).body).toEqual({
      message: 'Requested priority is illegal',
    });
  });

  it("checks snoop's directions and app before the channel, which need not be in Stasis", async () => {
    const { ari } = await setup();
    expect((await ari('POST', 'channels/nope/snoop?app=capconduit&spy=up')).body).toEqual({
      message: 'Invalid direction specified for spy',
    });
    expect((await ari('POST', 'channels/nope/snoop?app=capconduit')).body).toEqual({
      message: 'Direction must be specified for at least spy or whisper',
    });
    expect((await ari('POST', 'channels/nope/snoop?spy=in')).body).toEqual({
      message: 'Application name is required',
    });
    expect((await ari('POST', 'channels/nope/snoop?spy=in&app=capconduit')).body).toEqual({
      message: 'Provided channel was not found',
    });
  });

  it('counts RTP by time on a channel with RTP, refuses one without (403)', async () => {
    const { ari } = await setup();
    const local = await ari('POST', 'channels/create?endpoint=Local/s@nowhere&app=capconduit&channelId=l-1');
    expect(local.status).toBe(200);
    expect((await ari('GET', 'channels/l-1/rtp_statistics')).body).toEqual({
      message: 'Unsupported channel type',
    });
    const ext = await ari(
      'POST',
      'channels/externalMedia?app=capconduit&external_host=127.0.0.1:40000&format=ulaw&channelId=rtp-1',
    );
    expect(ext.status).toBe(200);
    const st = await waitFor(async () => {
      const r = await ari('GET', 'channels/rtp-1/rtp_statistics');
      return (r.body.txcount as number) > 0 && r.body;
    });
    expect(st).toMatchObject({ txploss: 0, rxploss: 0, channel_uniqueid: 'rtp-1' });
    expect(st.txoctetcount).toBe((st.txcount as number) * 160);
  });

  it("checks external media's transport, encapsulation and host as Asterisk does", async () => {
    const { ari } = await setup();
    const em = (q: string) => ari('POST', `channels/externalMedia?app=capconduit&format=ulaw&${q}`);
    expect((await em('')).body).toEqual({
      message: 'external_host is required for all but websocket server connections',
    });
    expect((await em('external_host=nohost')).body).toEqual({
      message: 'external_host must be <host>:<port> for all transports other than websocket',
    });
    expect((await em('transport=websocket&external_host=x')).body).toEqual({
      message: "encapsulation must be 'none' for websocket transport",
    });
    expect((await em('transport=tcp&external_host=h:1')).body).toEqual({
      message: "transport must be 'udp' for rtp encapsulation",
    });
    expect((await em('encapsulation=audiosocket&transport=tcp&external_host=h:1')).body).toEqual({
      message: 'data can not be empty',
    });
    expect((await em('connection_type=server&external_host=h:1')).body).toEqual({
      message: "'server' connection_type can only be used with the websocket transport",
    });
  });

  it('reads and writes variables as Asterisk checks them: name before channel, JSON values typed', async () => {
    const { ari } = await setup();
    expect((await ari('GET', 'channels/nope/variable')).body).toEqual({
      message: 'Variable name is required',
    });
    expect((await ari('GET', 'channels/nope/variable?variable=X')).body).toEqual({
      message: 'Provided channel was not found',
    });
    const bad = await ari('POST', 'channels/create?endpoint=Local/s@nowhere&app=capconduit', {
      variables: { A: { value: 1 } },
    });
    expect(bad.body).toEqual({
      message: "Each object value in 'variables' must include string field 'value'",
    });
    expect(
      (
        await ari('POST', 'channels/create?endpoint=Local/s@nowhere&app=capconduit', {
          variables: { A: { value: 'x', report_events: 'yes' } },
        })
      ).body,
    ).toEqual({ message: "Field 'report_events' in 'variables' entries must be boolean" });
    expect(
      (await ari('POST', 'channels/create?endpoint=Local/s@nowhere&app=capconduit', { variables: { A: 3 } }))
        .status,
    ).toBe(400);
    const ok = await ari('POST', 'channels/create?endpoint=Local/s@nowhere&app=capconduit&channelId=v-1', {
      variables: { A: 'a', B: { value: 'b', report_events: true } },
    });
    expect(ok.status).toBe(200);
    expect((await ari('GET', 'channels/v-1/variables?variables=A,B')).body).toEqual({
      variables: { A: 'a', B: 'b' },
    });
    expect((await ari('GET', 'channels/v-1/variable?variable=NOPE(x)')).body).toEqual({
      message: 'Unable to read provided function',
    });
    expect((await ari('POST', 'channels/v-1/variables')).body).toEqual({
      message: "The 'variables' field is required",
    });
  });

  it('checks an originate as ari_channels_handle_originate_with_id does, in order', async () => {
    const { ari } = await setup();
    const long = 'x'.repeat(150);
    expect(
      (await ari('POST', `channels?endpoint=Local/s@nowhere&app=capconduit&channelId=${long}`)).body,
    ).toEqual({
      message: 'Uniqueid length exceeds maximum of 149',
    });
    expect(
      (await ari('POST', 'channels?endpoint=Local/s@x&app=capconduit&originator=a&formats=ulaw')).body,
    ).toEqual({
      message: "Originator and formats can't both be specified",
    });
    expect((await ari('POST', 'channels?endpoint=Local/s@x&app=capconduit&originator=nope')).body).toEqual({
      message: 'Provided originator channel was not found',
    });
    expect((await ari('POST', 'channels?endpoint=Local/s@x&app=capconduit&formats=ulaw,mp3')).body).toEqual({
      message: 'Provided format (mp3) was not found',
    });
    expect(
      (await ari('POST', 'channels?endpoint=Local/s@x&extension=answer&context=capconduit-test&label=nope'))
        .body,
    ).toEqual({ message: 'Requested label can not be found' });
  });

  it('sends messages and refers through pjsip: only, with a destination (400) and string variables', async () => {
    const { s, ari } = await setup();
    s.setEndpoint('client7', { result: 'answer' });
    expect((await ari('PUT', 'endpoints/sendMessage?from=a')).body).toEqual({
      message: 'To must be specified',
    });
    expect((await ari('PUT', 'endpoints/sendMessage?to=xmpp:a@b&from=a')).status).toBe(404);
    expect((await ari('PUT', 'endpoints/sendMessage?to=pjsip:client7&from=a')).status).toBe(202);
    expect(
      (await ari('PUT', 'endpoints/PJSIP/client7/sendMessage?from=a', { variables: { n: 1 } })).body,
    ).toEqual({ message: "Only string values in the 'variables' object allowed" });
    expect((await ari('PUT', 'endpoints/PJSIP/client7/sendMessage?from=a')).status).toBe(202);
    expect((await ari('PUT', 'endpoints/PJSIP/nobody/sendMessage?from=a')).status).toBe(404);
  });

  it('bridge variables and stored recording copies answer with resource_bridges.c and resource_recordings.c', async () => {
    const { ari } = await setup();
    expect((await ari('GET', 'bridges/nope/variables')).body).toEqual({
      message: 'At least one variable name is required',
    });
    expect((await ari('GET', 'bridges/nope/variables?variables=A')).body).toEqual({
      message: 'Provided bridge was not found',
    });
    await ari('POST', 'bridges/bv?type=mixing');
    expect(
      (await ari('POST', 'bridges/bv/variables', { variables: { A: 'x', B: { value: 'y' } } })).status,
    ).toBe(204);
    expect((await ari('GET', 'bridges/bv/variables?variables=A,B')).body).toEqual({
      variables: { A: 'x', B: 'y' },
    });
    expect((await ari('POST', 'recordings/stored/nope/copy?destinationRecordingName=x')).status).toBe(404);
  });
});
