// AMI's `Events` / `EventMask` values as manager.c's strings_to_mask and get_perm read them,
// ast_instring's loose matching included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_CLASS, eventMask } from '../../src/simulator/ami/protocol.ts';

const C = EVENT_CLASS as Record<string, number>;
const LABELS = Object.keys(C).filter((l) => l !== 'all' && l !== 'none');

describe('simulator AMI event mask', () => {
  it('reads empty, digits, true and false words as strings_to_mask does', () => {
    expect(eventMask('')).toBe(-1);
    expect(eventMask('1')).toBe(1); // digits first: 1 is the system class, not "true"
    expect(eventMask('0')).toBe(0);
    expect(eventMask('2050')).toBe(2050);
    expect(eventMask('on')).toBe(C.all);
    expect(eventMask('Yes')).toBe(C.all);
    expect(eventMask('off')).toBe(0);
    expect(eventMask('bogus')).toBe(0); // no class named: Events: Off
    expect(eventMask('System')).toBe(0); // names are case-sensitive
  });

  it('matches list items as ast_instring does: a prefix before a comma, the last item whole', () => {
    expect(eventMask('system,call')).toBe(C.system! | C.call!);
    expect(eventMask('sys,call')).toBe(C.system! | C.call!);
    expect(eventMask('call,sys')).toBe(C.call!);
    expect(eventMask('c,log')).toBe(C.call! | C.command! | C.config! | C.cdr! | C.cc! | C.log!);
    expect(eventMask(',log')).toBe(C.all);
    expect(eventMask('call,')).toBe(C.call!);
    expect(eventMask('call,,')).toBe(C.all);
  });

  it('reads any list of whole class names as the union of those classes', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 6 }), (labels) => {
        const want = labels.reduce((m, l) => m | C[l]!, 0);
        expect(eventMask(labels.join(','))).toBe(want);
      }),
      { numRuns: 300 },
    );
  });
});
