// Asterisk's own CDR table, as its alembic scripts make it (contrib/ast-db-manage/cdr: revision
// 54cde9847798), under the name asterisk_cdr: Asterisk's cdr_pgsql writes a row for every channel
// that ends (asterisk/cdr.conf, asterisk/cdr_pgsql.conf), and the daemon reads back the records of
// callers that entered its Stasis app while no instance watched them (src/routing/unseen.ts). The
// daemon never writes here. Times are `timestamp without time zone` in UTC (cdr_pgsql's
// `timezone=UTC`), whole seconds.
import { index, integer, pgTable, timestamp, varchar } from 'drizzle-orm/pg-core';

export const asteriskCdr = pgTable(
  'asterisk_cdr',
  {
    accountcode: varchar('accountcode', { length: 80 }),
    src: varchar('src', { length: 80 }),
    dst: varchar('dst', { length: 80 }),
    dcontext: varchar('dcontext', { length: 80 }),
    clid: varchar('clid', { length: 80 }),
    channel: varchar('channel', { length: 80 }),
    dstchannel: varchar('dstchannel', { length: 80 }),
    lastapp: varchar('lastapp', { length: 80 }),
    lastdata: varchar('lastdata', { length: 80 }),
    start: timestamp('start'),
    answer: timestamp('answer'),
    end: timestamp('end'),
    duration: integer('duration'),
    billsec: integer('billsec'),
    disposition: varchar('disposition', { length: 45 }),
    amaflags: varchar('amaflags', { length: 45 }),
    userfield: varchar('userfield', { length: 256 }),
    uniqueid: varchar('uniqueid', { length: 150 }),
    linkedid: varchar('linkedid', { length: 150 }),
    peeraccount: varchar('peeraccount', { length: 80 }),
    sequence: integer('sequence'),
  },
  // The daemon's sweep reads one window of ends at a time, then every record of the channels it
  // found there (Asterisk writes several for a caller whose bridges changed).
  (t) => [index('asterisk_cdr_end_idx').on(t.end), index('asterisk_cdr_uniqueid_idx').on(t.uniqueid)],
);
