// Account codes as Asterisk carries them: CHANNEL(accountcode) and CHANNEL(peeraccount) read and
// written (func_channel.c; a new account code published at once as AMI NewAccountCode), a PJSIP
// endpoint's `accountcode` (ps_endpoints) on every channel chan_pjsip makes for it, and app_dial
// passing the caller's codes to the callee (ast_channel_req_accountcodes, BRIDGE_PEER); the CDRs
// carry them. CHANNEL items the simulator does not keep fail as an unknown item does.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsteriskCdr } from '../../src/simulator/cdr.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { freshDatabase } from '../helpers/env.ts';
import { ariRest } from '../helpers/sim-ari.ts';
import { simDialplan } from '../helpers/sim-dialplan.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const DIALPLAN = join(tmpdir(), `sim-accountcode-${process.pid}.conf`);
writeFileSync(
  DIALPLAN,
  `[calls]
exten => peer,1,Set(CHANNEL(accountcode)=acme)
 same => n,Set(CHANNEL(peeraccount)=buyer7)
 same => n,NoOp(\${CHANNEL(accountcode)}|\${CHANNEL(peeraccount)}|\${CHANNEL(channeltype)}|\${CHANNEL(state)}|\${CHANNEL(nosuchitem)})
 same => n,Dial(PJSIP/ansep,30)
exten => own,1,Set(CHANNEL(accountcode)=acme)
 same => n,Dial(PJSIP/billed,30)
exten => plain,1,Dial(PJSIP/billed,30)
`,
);

let db: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  db = await freshDatabase();
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  await sql`insert into ps_aors (id, contact) values ('billed', 'sip:billed@127.0.0.1:5060')`;
  await sql`insert into ps_endpoints (id, transport, aors, context, accountcode) values ('billed', 'transport-udp', 'billed', 'calls', 'trunk42')`;
  await sql.end();
});
afterAll(() => db?.drop());

async function setup() {
  const sim = await simDialplan(cleanup, {
    dialplanPath: DIALPLAN,
    databaseUrl: db.url,
    endpoints: { ansep: { result: 'answer', answerAfterMs: 10 } },
  });
  const cdrs: AsteriskCdr[] = [];
  sim.s.events.on('cdr', (r: AsteriskCdr) => cdrs.push(r));
  /** The callee app_dial made for `caller` (its first DialBegin's peer). */
  const callee = async (caller: string) =>
    (await waitFor(() => sim.ami.frames.find((f) => f.Event === 'DialBegin' && f.Uniqueid === caller)))
      .DestUniqueid!;
  return { ...sim, cdrs, callee };
}

describe('account codes', () => {
  it("CHANNEL(accountcode) and (peeraccount) written and read; the callee takes the peer account, the caller's code as its own peer account", async () => {
    const { s, ami, call, callee, cdrs } = await setup();
    const id = await call('peer', false);
    // The write publishes at once: NewAccountCode with the old (empty) code, and never a VarSet.
    const news = await waitFor(
      () => ami.of(id, 'NewAccountCode').length === 1 && ami.of(id, 'NewAccountCode'),
    );
    expect(news[0]).toMatchObject({ AccountCode: 'acme', OldAccountCode: '' });
    expect(ami.of(id, 'VarSet').filter((f) => f.Variable?.startsWith('CHANNEL'))).toEqual([]);
    const noop = await waitFor(() => ami.of(id, 'Newexten').find((f) => f.Application === 'NoOp'));
    // A Local `;2` in Ring; an item CHANNEL does not know reads empty (the read failed).
    expect(noop.AppData).toBe('acme|buyer7|Local|Ring|');
    expect(s.logged().some((l) => l.message === "Unknown or unavailable item requested: 'nosuchitem'")).toBe(
      true,
    );
    // The callee: made without a code (no endpoint row), then the caller's peer account.
    const tc = await callee(id);
    expect(ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === tc)!.AccountCode).toBe('');
    expect(ami.of(tc, 'NewAccountCode')).toMatchObject([{ AccountCode: 'buyer7', OldAccountCode: '' }]);
    const order = ami.of(tc, 'NewCallerid', 'NewAccountCode', 'NewConnectedLine').map((f) => f.Event);
    expect(order).toEqual(['NewCallerid', 'NewAccountCode', 'NewConnectedLine']);
    const getvar = async (channel: string, v: string) =>
      (await ami.action('Getvar', { Channel: channel, Variable: v })).Value;
    const tcName = ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === tc)!.Channel!;
    expect(await getvar(tcName, 'CHANNEL(peeraccount)')).toBe('acme');
    expect(await getvar(tcName, 'CHANNEL(accountcode)')).toBe('buyer7');
    // The caller's record carries its code; the callee's side of the bridge is party B.
    await waitFor(() => ami.frames.some((f) => f.Event === 'BridgeEnter' && f.Uniqueid === id));
    s.hangup(id, 16);
    await waitFor(() => ami.of(id, 'Hangup').length === 1);
    const rec = await waitFor(() => cdrs.find((r) => r.uniqueid === id));
    expect(rec.accountcode).toBe('acme');
    expect(rec.peeraccount).toBe('buyer7');
  });

  it("an endpoint's accountcode is on its channels from the start; a caller's own code overrides it on a dialled callee", async () => {
    const { s, ami, call, callee } = await setup();
    const plain = await callee(await call('plain', false));
    expect(ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === plain)!.AccountCode).toBe(
      'trunk42',
    );
    expect(ami.of(plain, 'NewAccountCode')).toEqual([]);
    const own = await callee(await call('own', false));
    expect(ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === own)!.AccountCode).toBe(
      'trunk42',
    );
    expect(ami.of(own, 'NewAccountCode')).toMatchObject([{ AccountCode: 'acme', OldAccountCode: 'trunk42' }]);
    // ARI's channels on the endpoint carry it too.
    const ari = ariRest(s);
    const made = (await ari('POST', 'channels/create?endpoint=PJSIP/billed&app=watch')).body as {
      accountcode: string;
    };
    expect(made.accountcode).toBe('trunk42');
  });
});
