// A recording's lengths as __ast_play_and_record reports them when silence is watched for
// (maxSilenceSeconds): the trailing silence but 200 ms comes off the duration, every silent
// stretch but 200 ms off the talking part, each in whole seconds rounded towards zero.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordingLengths } from '../../src/simulator/ari/recording.ts';

describe('recordingLengths', () => {
  it('examples worked through main/app.c', () => {
    // No silence: the file's whole seconds, all talking.
    expect(recordingLengths(4_900, 0, 0)).toEqual({ duration: 4, talking: 4 });
    // Ended by 3 s of silence (3.02 s heard): 1 s off each (2.82 s rounded towards zero is 2).
    expect(recordingLengths(5_320, 0, 3_020)).toEqual({ duration: 3, talking: 3 });
    // 1.5 s silent mid-way, then ended by 2.02 s of silence: duration 4 - 1, talking 4 - 3.
    expect(recordingLengths(4_120, 1_500, 2_020)).toEqual({ duration: 3, talking: 1 });
    // Under 200 ms of silence takes nothing off ((150 - 200) / 1000 is 0 in C).
    expect(recordingLengths(2_000, 0, 150)).toEqual({ duration: 2, talking: 2 });
    // All silence: nothing left to talk about, never below 0.
    expect(recordingLengths(1_100, 0, 1_100)).toEqual({ duration: 1, talking: 1 });
    expect(recordingLengths(1_100, 5_000, 0)).toEqual({ duration: 1, talking: 0 });
  });

  it('talking never exceeds the duration, neither goes below 0, and silence only ever takes away', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        (file, earlier, trailing) => {
          const { duration, talking } = recordingLengths(file, earlier, trailing);
          expect(talking).toBeGreaterThanOrEqual(0);
          expect(talking).toBeLessThanOrEqual(duration);
          expect(duration).toBeLessThanOrEqual(Math.floor(file / 1000));
          if (!earlier && !trailing) expect(talking).toBe(duration);
        },
      ),
      { numRuns: 500 },
    );
  });
});
