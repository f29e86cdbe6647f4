// DTMF as channel.c and bridge_channel.c carry it: a digit a channel reads is AMI DTMFBegin then
// DTMFEnd (Direction Received, DurationMs) and ARI ChannelDtmfReceived; in a bridge it is written to
// every other party (DTMFBegin/DTMFEnd Direction Sent), whose technology passes it on: the other half
// of a Local pair reads it, and an app holding that half hears ChannelDtmfReceived. A channel that
// joined with absorbDTMF keeps its digits; ARI's own `dtmf` sends to the technology without
// ast_write, so the sending channel reports nothing.
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import type { AriEvent } from '../helpers/sim-ari.ts';
import { type AmiSession, simAriAmi } from '../helpers/sim-ami.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const about = (id: string) => (e: AriEvent) => (e.channel as { id?: string } | undefined)?.id === id;

/** An inbound call in Stasis, and a Local leg whose `;1` the app made and whose `;2` entered Stasis too. */
async function setup() {
  const { ami, ...sim } = await simAriAmi(cleanup);
  const { ari, events } = sim;
  const caller = await sim.call();
  const one = (await ari('POST', 'channels/create?endpoint=Local/14155550101@from-carrier&app=capconduit'))
    .body.id as string;
  await waitFor(() => events.some((e) => e.type === 'StasisStart' && about(one)(e)));
  expect((await ari('POST', `channels/${one}/dial`)).status).toBe(204);
  const two = (
    (
      await waitFor(() =>
        events.find(
          (e) =>
            e.type === 'StasisStart' &&
            /;2$/.test(String((e.channel as { name: string }).name)) &&
            !about(caller)(e),
        ),
      )
    ).channel as { id: string }
  ).id;
  expect((await ari('POST', `channels/${two}/answer`)).status).toBe(204);
  const bridge = (await ari('POST', 'bridges?type=mixing')).body.id as string;
  return { ...sim, ami, caller, one, two, bridge };
}

/** AMI DTMF events of a channel as `Event/Direction/Digit[/DurationMs]`. */
const dtmf = (ami: AmiSession, id: string) =>
  ami
    .of(id, 'DTMFBegin', 'DTMFEnd')
    .map((f) => [f.Event, f.Direction, f.Digit, ...(f.DurationMs ? [f.DurationMs] : [])].join('/'));

describe('simulator DTMF', () => {
  it('a digit read by a bridged caller crosses the bridge to the leg, whose other half hears it in Stasis', async () => {
    const { ari, s, ami, events, caller, one, two, bridge } = await setup();
    expect((await ari('POST', `bridges/${bridge}/addChannel?channel=${caller},${one}`)).status).toBe(204);
    s.pressDigits(caller, '5#', 120);
    await waitFor(() => events.filter((e) => e.type === 'ChannelDtmfReceived' && about(two)(e)).length === 2);
    expect(dtmf(ami, caller)).toEqual([
      'DTMFBegin/Received/5',
      'DTMFEnd/Received/5/120',
      'DTMFBegin/Received/#',
      'DTMFEnd/Received/#/120',
    ]);
    expect(dtmf(ami, one)).toEqual([
      'DTMFBegin/Sent/5',
      'DTMFEnd/Sent/5/120',
      'DTMFBegin/Sent/#',
      'DTMFEnd/Sent/#/120',
    ]);
    expect(dtmf(ami, two)).toEqual([
      'DTMFBegin/Received/5',
      'DTMFEnd/Received/5/120',
      'DTMFBegin/Received/#',
      'DTMFEnd/Received/#/120',
    ]);
    // ARI: the caller's app hears its own digits, the leg's other half hears them as received.
    const received = events.filter((e) => e.type === 'ChannelDtmfReceived');
    expect(
      received.map((e) => [
        (e.channel as { id: string }).id === caller ? 'caller' : 'two',
        e.digit,
        e.duration_ms,
      ]),
    ).toEqual([
      ['caller', '5', 120],
      ['two', '5', 120],
      ['caller', '#', 120],
      ['two', '#', 120],
    ]);
    // The Sent side (the leg's `;1`) hears no ChannelDtmfReceived.
    expect(received.some(about(one))).toBe(false);
    // Fields in manager_channels.c's order, class dtmf.
    const end = ami.of(caller, 'DTMFEnd')[0]!;
    expect(Object.keys(end).slice(-3)).toEqual(['Digit', 'DurationMs', 'Direction']);
    expect(end.Privilege).toBe('dtmf,all');
  });

  it('a digit shorter than the 80 ms minimum is reported as read and reaches the bridge as 80 ms', async () => {
    const { ari, s, ami, events, caller, one, two, bridge } = await setup();
    expect((await ari('POST', `bridges/${bridge}/addChannel?channel=${caller},${one}`)).status).toBe(204);
    s.pressDigits(caller, '1', 40);
    await waitFor(() => events.some((e) => e.type === 'ChannelDtmfReceived' && about(two)(e)));
    expect(dtmf(ami, caller)).toEqual(['DTMFBegin/Received/1', 'DTMFEnd/Received/1/40']);
    expect(dtmf(ami, one)).toEqual(['DTMFBegin/Sent/1', 'DTMFEnd/Sent/1/80']);
  });

  it('absorbDTMF keeps a channel’s digits out of the bridge', async () => {
    const { ari, s, ami, events, caller, one, bridge } = await setup();
    expect((await ari('POST', `bridges/${bridge}/addChannel?channel=${caller}&absorbDTMF=true`)).status).toBe(
      204,
    );
    expect((await ari('POST', `bridges/${bridge}/addChannel?channel=${one}`)).status).toBe(204);
    s.pressDigits(caller, '7');
    await waitFor(() => events.some((e) => e.type === 'ChannelDtmfReceived' && about(caller)(e)));
    // The leg's side sends digits the other way all the same.
    s.pressDigits(one, '8');
    await waitFor(() => dtmf(ami, caller).includes('DTMFEnd/Sent/8/100'));
    expect(dtmf(ami, one)).toEqual(['DTMFBegin/Received/8', 'DTMFEnd/Received/8/100']);
  });

  it('ARI dtmf on a Local half: the other half reads it, the sender reports nothing', async () => {
    const { ari, ami, events, one, two } = await setup();
    expect((await ari('POST', `channels/${one}/dtmf?dtmf=4&duration=30`)).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'ChannelDtmfReceived' && about(two)(e)));
    expect(dtmf(ami, two)).toEqual(['DTMFBegin/Received/4', 'DTMFEnd/Received/4/100']);
    expect(dtmf(ami, one)).toEqual([]);
  });
});
