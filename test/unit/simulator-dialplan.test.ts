// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Asterisk dialplan syntax, not templates
import { describe, expect, it } from 'vitest';
import {
  DialplanError,
  evalCondition,
  findExtension,
  loadDialplan,
  matchExten,
  parseDialplan,
  substitute,
} from '../../src/simulator/dialplan.ts';
import { DEFAULT_DIALPLAN } from '../../src/simulator/index.ts';

describe('dialplan parser', () => {
  it('loads the project sample extensions.conf', () => {
    const dp = loadDialplan(DEFAULT_DIALPLAN);
    expect(dp.globals.FALLBACK_CAUSE).toBe('34');
    const steps = findExtension(dp, 'from-carrier', '14155550100')!;
    expect(steps.map((s) => s.app)).toEqual(['NoOp', 'Stasis', 'GotoIf', 'Hangup', 'Hangup']);
    expect(steps.find((s) => s.label === 'fallback')?.priority).toBe(5);
    expect(findExtension(dp, 'internal', '1001')![0]!.app).toBe('Dial');
    expect(findExtension(dp, 'internal', '2001')).toBeNull();
  });

  it('refuses an application it cannot run, at load time, naming the line', () => {
    expect(() => parseDialplan('[x]\nexten => 1,1,NoOp()\n same => n,Playback(hello)\n')).toThrow(
      DialplanError,
    );
    expect(() => parseDialplan('[x]\nexten => 1,1,Playback(hello)\n', 'f.conf')).toThrow(
      /f\.conf:2: application Playback/,
    );
    expect(() => parseDialplan('same => n,NoOp()\n')).toThrow(/outside any \[context\]/);
  });

  it('matches patterns the way Asterisk does', () => {
    expect(matchExten('_X.', '14155550100')).toBe(true);
    expect(matchExten('_X.', '+1415')).toBe(false);
    expect(matchExten('_+X.', '+14155550100')).toBe(true);
    expect(matchExten('_NXXNXXXXXX', '4155550100')).toBe(true);
    expect(matchExten('_NXXNXXXXXX', '1155550100')).toBe(false);
    expect(matchExten('_1XXX', '1000')).toBe(true);
    expect(matchExten('_stasis-.', 'stasis-abc')).toBe(true);
    expect(matchExten('_[2-4]X', '35')).toBe(true);
    expect(matchExten('100', '100')).toBe(true);
  });

  it('substitutes variables with offsets and evaluates conditions', () => {
    const vars: Record<string, string> = { EXTEN: '+14155550100', STASISSTATUS: 'FAILED' };
    const get = (n: string) => vars[n] ?? '';
    expect(substitute('${EXTEN:1}', get)).toBe('14155550100');
    expect(substitute('${EXTEN:2:3}', get)).toBe('415');
    expect(evalCondition(substitute('$["${STASISSTATUS}" = "FAILED"]', get))).toBe(true);
    expect(evalCondition('$["TIMEOUT" = "TIMEOUT" | "x" = "y"]')).toBe(true);
    expect(evalCondition('$["SUCCESS" = "FAILED"]')).toBe(false);
  });
});
