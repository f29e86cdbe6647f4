// The technology a bridge runs on, as main/bridge.c's smart_bridge_operation picks it on each
// reconfiguration (a channel joining or leaving): native_rtp for two PJSIP channels that are both
// up when the bridge may bridge natively, simple_bridge for other pairs, softmix for more than
// two; and the capabilities a bridge's `type` list asks for, as res_stasis.c's bridge_create_common
// reads it (in order, unknown words ignored).
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { type AriEvent, simAri } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const about = (id: string) => (e: AriEvent) => (e.channel as { id?: string } | undefined)?.id === id;

async function setup() {
  const t = await simAri(cleanup);
  t.s.setEndpoint('phone1', { result: 'answer', answerAfterMs: 10 });
  t.s.setEndpoint('phone2', { result: 'answer', answerAfterMs: 10 });
  /** A PJSIP channel originated into the app, answered by its far end. */
  const pjsip = async (endpoint: string, channelId: string) => {
    const r = await t.ari(
      'POST',
      `channels?endpoint=PJSIP/${endpoint}&app=capconduit&channelId=${channelId}`,
    );
    expect(r.status).toBe(200);
    await waitFor(() => t.events.some((e) => e.type === 'StasisStart' && about(channelId)(e)));
    return channelId;
  };
  const technology = async (bridge: string) => (await t.ari('GET', `bridges/${bridge}`)).body.technology;
  return { ...t, pjsip, technology };
}

describe('simulator bridge technology', () => {
  it('two PJSIP channels, both up, go native_rtp; a third makes it softmix, and native_rtp again when it leaves', async () => {
    const { ari, pjsip, call, technology, events } = await setup();
    const a = await pjsip('phone1', 'pa');
    const b = await pjsip('phone2', 'pb');
    const bridge = (await ari('POST', 'bridges?type=mixing')).body.id as string;
    expect(await technology(bridge)).toBe('simple_bridge');
    await ari('POST', `bridges/${bridge}/addChannel?channel=${a}`);
    await ari('POST', `bridges/${bridge}/addChannel?channel=${b}`);
    expect(await technology(bridge)).toBe('native_rtp');
    // ChannelEnteredBridge carries the snapshot taken as the channel was pushed, before the
    // bridge was reconfigured: simple_bridge still.
    const entered = events.filter((e) => e.type === 'ChannelEnteredBridge' && about(b)(e));
    expect((entered[0]!.bridge as { technology: string }).technology).toBe('simple_bridge');
    const third = await call();
    await ari('POST', `bridges/${bridge}/addChannel?channel=${third}`);
    expect(await technology(bridge)).toBe('softmix');
    await ari('POST', `bridges/${bridge}/removeChannel?channel=${third}`);
    expect(await technology(bridge)).toBe('native_rtp');
    const left = events.filter((e) => e.type === 'ChannelLeftBridge' && about(third)(e));
    expect((left[0]!.bridge as { technology: string }).technology).toBe('softmix');
  });

  it('a Local channel, a channel not up yet, or a bridge that may not bridge natively stays simple_bridge', async () => {
    const { ari, pjsip, call, technology } = await setup();
    const a = await pjsip('phone1', 'pa');
    const local = await call();
    const mixed = (await ari('POST', 'bridges?type=mixing')).body.id as string;
    await ari('POST', `bridges/${mixed}/addChannel?channel=${a},${local}`);
    expect(await technology(mixed)).toBe('simple_bridge');
    await ari('POST', `bridges/${mixed}/removeChannel?channel=${local}`);
    // proxy_media after mixing takes the native capability away; before it, mixing puts it back.
    const proxied = (await ari('POST', 'bridges?type=mixing,proxy_media')).body.id as string;
    const b = await pjsip('phone2', 'pb');
    await ari('POST', `bridges/${proxied}/addChannel?channel=${a},${b}`);
    expect(await technology(proxied)).toBe('simple_bridge');
    const again = (await ari('POST', 'bridges?type=dtmf_events,mixing')).body.id as string;
    await ari('POST', `bridges/${again}/addChannel?channel=${a},${b}`);
    expect(await technology(again)).toBe('native_rtp');
    // A PJSIP channel added before its far end answers: not up at the reconfiguration, and its
    // later answer does not reconfigure the bridge.
    const down = await ari('POST', 'channels/create?endpoint=PJSIP/phone1&app=capconduit&channelId=pc');
    expect(down.status).toBe(200);
    const early = (await ari('POST', 'bridges')).body.id as string;
    await ari('POST', `bridges/${early}/addChannel?channel=pb,pc`);
    expect(await technology(early)).toBe('simple_bridge');
  });

  it('reads the type list as bridge_create_common does: unknown words ignored, no capability is 500', async () => {
    const { ari } = await setup();
    const made = async (type: string) => {
      const r = await ari('POST', `bridges?type=${type}`);
      return r.status === 200 ? `${r.body.bridge_type}/${r.body.technology}/${r.body.video_mode}` : r.status;
    };
    expect(await made('mixing,no-such-word')).toBe('mixing/simple_bridge/talker');
    expect(await made('holding')).toBe('holding/holding_bridge/talker');
    expect(await made('video_sfu')).toBe('mixing/softmix/sfu');
    expect(await made('mixing,video_single')).toBe('mixing/simple_bridge/single');
    expect(await made('dtmf_events')).toBe(500);
    expect(await made('mixing,holding')).toBe(500);
    expect(await made('no-such-type')).toBe(500);
  });
});
