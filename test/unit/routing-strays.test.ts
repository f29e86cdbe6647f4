// Which channels a resync takes for strays (strays.ts): callers whose StasisStart never arrived, and
// client legs of calls or attempts that ended before the listing. Everything else is left alone.
import { describe, expect, it } from 'vitest';
import type { AriChannel } from '../../src/asterisk/types.ts';
import type { CallState } from '../../src/routing/call.ts';
import type { CallRecord } from '../../src/routing/call-record.ts';
import type { CallRuntime } from '../../src/routing/effects.ts';
import { strayChannels } from '../../src/routing/strays.ts';

const LISTED_AT = 1_000_000;

function channel(id: string, o: { appData?: string; vars?: Record<string, string> } = {}): AriChannel {
  return {
    id,
    name: `PJSIP/x-${id}`,
    state: 'Up',
    caller: { name: '', number: '+12125550100' },
    connected: { name: '', number: '' },
    dialplan: {
      context: 'from-carrier',
      exten: '+14155550100',
      priority: 1,
      ...(o.appData !== undefined ? { app_name: 'Stasis', app_data: o.appData } : {}),
    },
    creationtime: new Date(LISTED_AT - 5000).toISOString(),
    ...(o.vars ? { channelvars: o.vars } : {}),
  };
}

const leg = (id: string, callId: string, owner = 'capconduit') =>
  channel(id, {
    appData: `${owner},leg,${callId}`,
    vars: { CAPCONDUIT_CALL_ID: callId, CAPCONDUIT_OWNER: owner, CAPCONDUIT_CALLER: 'caller' },
  });

describe('stray channels at a resync', () => {
  const live: CallRuntime = {
    state: {
      callId: 'live',
      callerChannelId: 'live-caller',
      attempts: [
        { legId: 'live-1', endedAt: LISTED_AT - 10 },
        { legId: 'live-2' },
        { legId: 'live-3', endedAt: LISTED_AT + 10 },
      ],
    } as unknown as CallState,
  };
  const ended = new Map([
    ['done-before', LISTED_AT - 1],
    ['done-after', LISTED_AT + 1],
  ]);
  const runner = {
    calls: new Map([['live', live]]),
    byChannel: new Map([
      ['live-caller', 'live'],
      ['live-1', 'live'],
      ['live-2', 'live'],
      ['live-3', 'live'],
    ]),
    endedHere: (id: string) => ended.get(id),
    callerEnded: (id: string) => id === 'ended-caller',
  };
  const records = new Map([['rec', { callId: 'rec', callerChannelId: 'recorded-caller' } as CallRecord]]);

  it('routes only unknown callers in our inbound app, and hangs up only legs that ended before the listing', () => {
    const channels = [
      channel('lost-caller', { appData: 'capconduit,inbound' }),
      channel('other-app-caller', { appData: 'someone-else,inbound' }),
      channel('outbound-call', { appData: 'capconduit,outbound' }),
      channel('dialplan-caller'),
      channel('live-caller', { appData: 'capconduit,inbound' }),
      channel('ended-caller', { appData: 'capconduit,inbound' }),
      channel('recorded-caller', { appData: 'capconduit,inbound' }),
      leg('live-1', 'live'),
      leg('live-2', 'live'),
      leg('live-3', 'live'),
      leg('done-before-1', 'done-before'),
      leg('done-after-1', 'done-after'),
      leg('unknown-1', 'unknown'), // a dead owner's: the takeover's, not a stray
      leg('foreign-1', 'done-before', 'capconduit-other'),
    ];
    const r = strayChannels({ apps: ['capconduit'], runner }, channels, LISTED_AT, records);
    expect(r.callers.map((c) => [c.ch.id, c.app, c.args])).toEqual([
      ['lost-caller', 'capconduit', ['inbound']],
    ]);
    expect(r.legs.map((c) => c.id)).toEqual(['live-1', 'done-before-1']);
  });
});
