// Column drift: our drizzle definitions of Asterisk's realtime tables against the recorded list of
// Asterisk's columns (test/fixtures/asterisk-ps-columns.json). A column Asterisk adds, renames or
// retypes must be recorded there and mirrored in src/db/schema/asterisk.ts, or this fails.
import { readFileSync } from 'node:fs';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import * as asterisk from '../../src/db/schema/asterisk.ts';

interface AsteriskColumns {
  revision: string;
  enums: Record<string, string[]>;
  tables: Record<string, { notNull: string[]; columns: Record<string, string> }>;
}
const recorded = JSON.parse(
  readFileSync(new URL('../fixtures/asterisk-ps-columns.json', import.meta.url), 'utf8'),
) as AsteriskColumns;

describe('Asterisk realtime schema drift', () => {
  it('covers exactly the recorded tables', () => {
    expect(Object.keys(asterisk.ASTERISK_TABLES).sort()).toEqual(Object.keys(recorded.tables).sort());
  });

  for (const [name, rec] of Object.entries(recorded.tables)) {
    it(`${name}: every recorded column, with its type and nullability, and nothing else`, () => {
      const t = getTableConfig(asterisk.ASTERISK_TABLES[name as keyof typeof asterisk.ASTERISK_TABLES]);
      const ours = Object.fromEntries(t.columns.map((c) => [c.name, c.getSQLType()]));
      expect(ours).toEqual(rec.columns);
      expect(
        t.columns
          .filter((c) => c.notNull)
          .map((c) => c.name)
          .sort(),
      ).toEqual([...rec.notNull].sort());
    });
  }

  it('defines every recorded enum with the same values', () => {
    const enums = (Object.values(asterisk) as unknown[]).filter(
      (x): x is { enumName: string; enumValues: readonly string[] } =>
        typeof x === 'function' && 'enumName' in x,
    );
    const ours = Object.fromEntries(enums.map((e) => [e.enumName, [...e.enumValues]]));
    expect(ours).toEqual(recorded.enums);
  });
});
