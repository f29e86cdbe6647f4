// The CSV export of call records carries what the JSON carries: every field of a record as the API
// shows it is a CSV column (lists made flat), so a spreadsheet user misses nothing the API has.
import { describe, expect, it } from 'vitest';
import type { CallRecordView } from '../../src/cdr/repository.ts';
import { callRecordOut } from '../../src/cdr/schemas.ts';
import { CSV_COLS, callsCsv, csvCell } from '../../src/cdr/service.ts';

const row: CallRecordView = {
  callId: 'call-1',
  nodeId: 'n1',
  sellerId: null,
  campaignId: null,
  did: '+14155550100',
  callerNumber: '+12125550100',
  clientId: null,
  startedAt: new Date('2026-01-01T00:00:00Z'),
  answeredAt: new Date('2026-01-01T00:00:02Z'),
  endedAt: new Date('2026-01-01T00:01:00Z'),
  durationS: 60,
  billableS: 58,
  disposition: 'answered',
  hangupCause: 16,
  attempts: [
    {
      link_id: 'l1',
      client_id: 'c1',
      leg_id: 'call-1-1',
      result: 'answered',
      started_at: '',
      answered_at: '',
      ended_at: '',
      ring_ms: 1,
      short_answer: true,
    } as never,
    {
      link_id: 'l2',
      client_id: 'c2',
      leg_id: 'call-1-2',
      result: 'answered',
      started_at: '',
      answered_at: '',
      ended_at: '',
      ring_ms: 1,
    },
  ],
  notRouted: [
    { link_id: 'l3', client_id: 'c3', reason: 'concurrency' },
    { link_id: 'l4', client_id: 'c4', reason: 'closed' },
  ],
  linkId: 'l2',
  didId: 'd1',
  sellerName: 's',
  campaignName: 'c',
  clientName: 'x',
  talkS: 58,
  converted: true,
  payoutMicros: 1,
  revenueMicros: 2,
  costMicros: 3,
  defaultRoute: 'message',
  endReason: 'max_length',
  recordingName: 'call-1',
  recordingS: 58,
  recordingDeletedAt: null,
  recordedAt: new Date(),
  rentMicros: 1234.5,
} as CallRecordView;

describe('calls CSV', () => {
  it('has a column for every field of the JSON record', () => {
    const json = Object.keys(callRecordOut.shape);
    expect(json.filter((k) => !(CSV_COLS as readonly string[]).includes(k))).toEqual([]);
  });

  it('carries default_route, short_answer, end_reason, the recording, rent and margin, and flat attempts and not_routed', () => {
    const [head, line] = callsCsv([row]).trim().split('\n');
    const rec = Object.fromEntries(head!.split(',').map((k, i) => [k, line!.split(',')[i]]));
    expect(rec).toMatchObject({
      default_route: 'message',
      short_answer: 'true',
      end_reason: 'max_length',
      attempts: '2',
      not_routed: 'l3:concurrency;l4:closed',
      recording_name: 'call-1',
      recording_s: '58',
      recording_deleted_at: '',
      node_id: 'n1',
      did_id: 'd1',
      // The rent share rounded to the micro, and the margin after it: 2 - 1 - 3 - 1235.
      rent_micros: '1235',
      margin_micros: '-1237',
    });
    // A seller's export: no operator money.
    const seller = callsCsv([row], false).trim().split('\n')[1]!;
    const own = Object.fromEntries(head!.split(',').map((k, i) => [k, seller.split(',')[i]]));
    expect(own).toMatchObject({
      payout_micros: '1',
      revenue_micros: '',
      cost_micros: '',
      rent_micros: '',
      margin_micros: '',
    });
    const plain = callsCsv([{ ...row, attempts: [row.attempts[1]!], notRouted: [] }])
      .trim()
      .split('\n')[1]!;
    const cells = Object.fromEntries(head!.split(',').map((k, i) => [k, plain.split(',')[i]]));
    expect(cells).toMatchObject({ short_answer: 'false', not_routed: '' });
  });

  it('defuses text a spreadsheet would run as a formula, never a number (a negative margin adds up)', () => {
    expect(csvCell('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('+14155550100')).toBe('+14155550100');
    expect(csvCell(-1237)).toBe('-1237');
    expect(csvCell(null)).toBe('');
  });
});
