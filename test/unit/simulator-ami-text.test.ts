import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type Fields, lines, packet, snapshot, snapshotLines } from '../../src/simulator/ami/protocol.ts';
import { SimModel } from '../../src/simulator/model.ts';
import { asteriskNow, asteriskTime } from '../../src/simulator/model/types.ts';

// The AMI server builds event text from pieces (a cached snapshot, lines) instead of one field list:
// the bytes must be what one packet of the whole list gives, whatever changed on the channel.
const oldPacket = (fields: Fields) => `${fields.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;

const party = fc.record({ name: fc.string({ maxLength: 6 }), number: fc.string({ maxLength: 6 }) });
const change = fc.oneof(
  fc.record({
    kind: fc.constant('state' as const),
    to: fc.constantFrom('Down', 'Ring', 'Ringing', 'Up', 'Busy'),
  }),
  fc.record({ kind: fc.constant('caller' as const), to: party }),
  fc.record({ kind: fc.constant('connected' as const), to: party }),
  fc.record({
    kind: fc.constant('dialplan' as const),
    context: fc.constantFrom('a', 'b'),
    exten: fc.constantFrom('s', '100'),
    priority: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant('linkedid' as const), to: fc.option(fc.constantFrom('1.1', '1.2')) }),
  fc.record({
    kind: fc.constant('name' as const),
    to: fc.constantFrom('PJSIP/a-00000001', 'Local/x@y-00000002;2'),
  }),
);

describe('simulator AMI event text', () => {
  it('packet gives the bytes of the field list joined, one CRLF a line and a blank line after', () => {
    const field = fc.tuple(fc.string(), fc.oneof(fc.string(), fc.integer()));
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), (fields) => {
        expect(packet(fields)).toBe(oldPacket(fields));
      }),
      { numRuns: 300 },
    );
  });

  it("a channel's cached snapshot lines are its snapshot now, after any run of changes", () => {
    fc.assert(
      fc.property(fc.array(change, { maxLength: 12 }), (changes) => {
        const m = new SimModel('id', []);
        const c = m.create({ id: '1.1', name: 'PJSIP/a-00000001' });
        expect(snapshotLines(c)).toBe(lines(snapshot(c)));
        for (const x of changes) {
          if (x.kind === 'state') c.state = x.to;
          else if (x.kind === 'caller') c.caller = { ...x.to };
          else if (x.kind === 'connected') c.connected = { ...x.to };
          else if (x.kind === 'dialplan') c.dialplan = { ...c.dialplan, ...x };
          else if (x.kind === 'linkedid') c.linkedid = x.to ?? undefined;
          else c.name = x.to;
          expect(snapshotLines(c)).toBe(lines(snapshot(c)));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('simulator timestamps', () => {
  it('asteriskNow is asteriskTime of the current millisecond, however the clock moves', () => {
    vi.useFakeTimers();
    try {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 4_102_444_800_000 }), { maxLength: 20 }), (times) => {
          for (const t of times) {
            vi.setSystemTime(t);
            expect(asteriskNow()).toBe(asteriskTime(new Date()));
            expect(asteriskNow()).toBe(asteriskTime(new Date(t)));
          }
        }),
        { numRuns: 200 },
      );
    } finally {
      vi.useRealTimers();
    }
  });
});
