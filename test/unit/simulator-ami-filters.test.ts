// The AMI filter decisions (src/simulator/ami/filters.ts) on generated events: an event name
// filter passes exactly the events of that name, a header filter exactly the events with a line
// of that header whose value matches, and an exclude is an include's complement.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EventFilter, parseFilter, passes } from '../../src/simulator/ami/filters.ts';

const NAMES = ['Newchannel', 'Hangup', 'HangupRequest', 'VarSet', 'Newstate'];
const event = fc.record({
  name: fc.constantFrom(...NAMES),
  channel: fc.constantFrom('Local/1@a-00000001;1', 'Local/1@a-00000001;2', 'PJSIP/x-00000002', ''),
});
const text = (e: { name: string; channel: string }) =>
  `Event: ${e.name}\r\nPrivilege: call,all\r\nChannel: ${e.channel}\r\nUniqueid: 1.2\r\n\r\n`;
const filter = (criteria: string, pattern: string): EventFilter => {
  const f = parseFilter(criteria, pattern);
  if (typeof f === 'string') throw new Error(`refused: ${f}`);
  return f;
};

describe('simulator AMI filters', () => {
  it('name, header and exclude filters pass exactly what they describe', () => {
    fc.assert(
      fc.property(event, fc.constantFrom(...NAMES), fc.constantFrom(';1', ';2', 'PJSIP'), (e, name, part) => {
        const byName = { include: [filter(`name(${name})`, '')], exclude: [] };
        expect(passes(byName, text(e))).toBe(e.name === name);
        const notName = { include: [], exclude: [filter(`action(exclude),name(${name})`, '')] };
        expect(passes(notName, text(e))).toBe(e.name !== name);
        // An empty header value is skipped, never matched.
        const byHeader = { include: [filter('header(Channel),method(contains)', part)], exclude: [] };
        expect(passes(byHeader, text(e))).toBe(e.channel !== '' && e.channel.includes(part));
        const both = { include: byHeader.include, exclude: notName.exclude };
        expect(passes(both, text(e))).toBe(e.channel.includes(part) && e.name !== name);
      }),
      { numRuns: 300 },
    );
  });
});
