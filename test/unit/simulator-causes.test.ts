import { describe, expect, it } from 'vitest';
import { CAUSE_TXT } from '../../src/simulator/model.ts';

// The cause table is sent word for word as ARI's cause_txt and AMI's Cause-txt. Four of its texts
// are stored with an escaped space (see the table's "escapes" note); this pins what they read as.
describe('Q.850 cause texts', () => {
  it("reads as Asterisk's ast_cause2str words, escaped spaces included", () => {
    expect([
      CAUSE_TXT[16],
      CAUSE_TXT[17],
      CAUSE_TXT[65],
      CAUSE_TXT[66],
      CAUSE_TXT[69],
      CAUSE_TXT[99],
    ]).toEqual([
      'Normal Clearing',
      'User busy',
      'Bearer capability not implemented',
      'Channel not implemented',
      'Facility not implemented',
      'Info. element nonexist or not implemented',
    ]);
  });
});
