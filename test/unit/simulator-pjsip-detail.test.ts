// PJSIPShowEndpoint's detail events as the simulator builds them from realtime rows, against what a
// real Asterisk 22.10.1 sent for the same rows (fixture: the recorded pjsip-realtime scenario):
// every field, its value and its place, for the endpoint, its auth, its transport and its AOR.
// Also the field order rule itself (sorcery's hash buckets) and the pieces a row is rendered with.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endpointDetail, endpointListItem, haJoin } from '../../src/simulator/pjsip/ami.ts';
import type { EndpointObjects } from '../../src/simulator/pjsip/directory.ts';
import { OBJECT_FIELDS, renderFields, sorceryBucket } from '../../src/simulator/pjsip/sorcery.ts';

type Rec = { step: string; src: string; kind?: string; sql?: string; frame?: Record<string, string> };
const recs: Rec[] = readFileSync(
  new URL('../fixtures/asterisk-wire/pjsip-realtime.jsonl', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));

/** The row an INSERT of the scenario wrote (column list and quoted values). */
function inserted(table: string): Record<string, string> {
  const sql = recs.find((r) => r.src === 'db' && r.sql?.startsWith(`INSERT INTO ${table} `))!.sql!;
  const m = /\(([^)]*)\) VALUES \((.*)\)$/.exec(sql)!;
  const cols = m[1]!.split(',').map((c) => c.trim());
  const vals = [...m[2]!.matchAll(/'((?:[^']|'')*)'|(\d+)/g)].map((v) => v[1]?.replace(/''/g, "'") ?? v[2]!);
  return Object.fromEntries(cols.map((c, i) => [c, vals[i]!]));
}

const items = (step: string) =>
  recs
    .filter(
      (r) =>
        r.step === step && r.src === 'ami.recv' && (r.kind === 'list-item' || r.kind === 'list-complete'),
    )
    .map((r) => Object.entries(r.frame!).filter(([k]) => k !== 'ActionID'));

const objects = (): EndpointObjects => ({
  endpoint: inserted('ps_endpoints'),
  auths: [inserted('ps_auths')],
  outboundAuths: [],
  aors: [inserted('ps_aors')],
  contacts: [],
  identifies: [],
});
// A realtime endpoint with no contact: unreachable, no channels.
const live = { deviceState: 'Unavailable', activeChannels: 0, reachable: false };
const str = (fields: Array<[string, string | number]>) => fields.map(([k, v]) => [k, String(v)]);

describe('PJSIPShowEndpoint detail as a real Asterisk 22.10.1 sends it', () => {
  it('EndpointDetail, AuthDetail, TransportDetail, AorDetail: same fields, values and order', () => {
    const real = items('05:ami-show-endpoint');
    const { items: mine, errors } = endpointDetail(objects(), live);
    expect(errors).toEqual([]);
    const complete = real.pop()!;
    expect(mine.map(str)).toEqual(real);
    expect(complete).toEqual([
      ['Event', 'EndpointDetailComplete'],
      ['EventList', 'Complete'],
      ['ListItems', String(mine.length)],
    ]);
  });

  it('a changed row is read again (callerid updated in the table)', () => {
    const real = items('09:ami-show-after-update');
    const o = objects();
    o.endpoint = { ...o.endpoint, callerid: '"Conf RT2" <2998>' };
    expect(endpointDetail(o, live).items.map(str)).toEqual(real.slice(0, -1));
  });

  it('EndpointList for the realtime endpoint', () => {
    const real = items('06:ami-show-endpoints').find((f) =>
      f.some(([k, v]) => k === 'ObjectName' && v === 'conf-rt1'),
    );
    expect(str(endpointListItem(objects(), live))).toEqual(real);
  });

  it('orders fields as sorcery walks its 29 hash buckets', () => {
    // djb2 of the name, kept to 31 bits, modulo 29 (checked by hand for two names).
    expect(sorceryBucket('context')).toBe(Number((BigInt.asUintN(32, djb2('context')) & 0x7fffffffn) % 29n));
    const names = OBJECT_FIELDS.endpoint.map((f) => f[0]);
    const buckets = names.map(sorceryBucket);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
  });

  it('renders booleans, codecs, caller id and identify matches as Asterisk prints them', () => {
    const ep = Object.fromEntries(
      renderFields(OBJECT_FIELDS.endpoint, {
        direct_media: 'yes',
        rtp_symmetric: 'on',
        disallow: 'all',
        allow: 'alaw, g722,alaw',
        callerid: '5551234',
        contact_user: 'bob',
      }),
    );
    expect(ep.DirectMedia).toBe('true');
    expect(ep.RtpSymmetric).toBe('true');
    expect(ep.Allow).toBe('(alaw|g722)');
    expect(ep.Callerid).toBe('5551234');
    expect(ep.ContactUser).toBe('bob');
    expect(ep).not.toHaveProperty('Disallow');
    expect(ep).not.toHaveProperty('Type');
    const none = Object.fromEntries(renderFields(OBJECT_FIELDS.endpoint, {}));
    expect(none.Allow).toBe('(nothing)');
    expect(none.Callerid).toBe('<unknown>');
    expect(none).not.toHaveProperty('ContactUser');
    expect(haJoin('203.0.113.5,10.1.2.3/8, 192.0.2.0/255.255.255.0')).toBe(
      '203.0.113.5/255.255.255.255,10.0.0.0/255.0.0.0,192.0.2.0/255.255.255.0',
    );
  });

  it('adds ContactStatusDetail and IdentifyDetail after the AOR, counted in ListItems', () => {
    const o = objects();
    o.contacts = [
      {
        id: 'conf-rt1;@abc',
        aor: 'conf-rt1',
        uri: 'sip:conf-rt1@127.0.0.1:5070',
        row: {
          expiration_time: '1795354167',
          user_agent: 'Phone/1',
          via_addr: '127.0.0.1',
          via_port: '5070',
        },
        permanent: false,
      },
    ];
    o.identifies = [{ id: 'conf-rt1-ip1', endpoint: 'conf-rt1', match: '203.0.113.0/24' }];
    const { items: out } = endpointDetail(o, {
      deviceState: 'Not in use',
      activeChannels: 0,
      reachable: true,
    });
    expect(out.map((f) => f[0]![1])).toEqual([
      'EndpointDetail',
      'AuthDetail',
      'TransportDetail',
      'AorDetail',
      'ContactStatusDetail',
      'IdentifyDetail',
    ]);
    const aor = Object.fromEntries(out[3]!);
    expect(aor.Contacts).toBe('conf-rt1/sip:conf-rt1@127.0.0.1:5070');
    expect([aor.TotalContacts, aor.ContactsRegistered]).toEqual([1, 1]);
    const cs = Object.fromEntries(out[4]!);
    expect([cs.Status, cs.RoundtripUsec, cs.ViaAddress, cs.RegExpire]).toEqual([
      'NonQualified',
      'N/A',
      '127.0.0.1:5070',
      '1795354167',
    ]);
    expect(Object.fromEntries(out[5]!).Match).toBe('203.0.113.0/255.255.255.0');
  });
});

function djb2(s: string): bigint {
  let h = 5381n;
  for (const c of Buffer.from(s)) h = BigInt.asUintN(32, h * 33n) ^ BigInt(c);
  return h;
}
