// Every SQL statement of a domain is in its repository: a service (service.ts, services.ts or a file
// of a service/ folder) owns transactions around repository calls but builds no query itself. Without
// drizzle-orm's operators, a table object or a `sql` template, a file cannot write one.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

const isService = (path: string) => /(^|\/)(services?\.ts|service\/[^/]+\.ts)$/.test(path);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The lines of a source text that build SQL: what a repository is for. */
function sqlLines(text: string): string[] {
  const bad = [
    /from 'drizzle-orm/, // its operators (eq, and, sql ...) and its table builders
    /\bimport (?!type )[^;]*from '[./]*\/db\/schema\//, // a table object (a type from the schema is fine)
    /\bsql`/, // a drizzle or postgres.js template
    /\.(select|selectDistinct|execute)\(/,
    /\.for\('update'/,
  ];
  // A statement may span lines (an import, a chained query): each is judged whole.
  const statements = text.split(/;\s*\n/).map((s) => s.replace(/\s+/g, ' ').trim());
  return statements.filter((s) => bad.some((re) => re.test(s)));
}

describe('layout: SQL only in repositories', () => {
  it('no service of src/ builds a query', () => {
    const found = files(SRC)
      .map((f) => relative(SRC, f))
      .filter(isService)
      .flatMap((f) => sqlLines(readFileSync(join(SRC, f), 'utf8')).map((l) => `${f}: ${l.slice(0, 120)}`));
    expect(found).toEqual([]);
  });

  it('finds a query, a table import and a raw template; passes types and repository calls', () => {
    const bad = sqlLines(
      [
        "import { and, eq } from 'drizzle-orm';",
        "import { webhookDeliveries } from '../../db/schema/provisioning.ts';",
        'const [d] = await this.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));',
        'await tx.execute(q);',
        'await database.sql`select 1`;',
      ].join('\n'),
    );
    expect(bad).toHaveLength(5);
    const fine = sqlLines(
      [
        "import type { WebhookEvent } from '../../db/schema/provisioning.ts';",
        "import * as repo from './repository.ts';",
        'const d = await repo.delivery(this.db, id);',
        'return this.db.transaction(async (tx) => repo.markEnqueued(tx, ids));',
        'this.providers.delete(id);',
        "const hash = createHash('sha256').update(body).digest('hex');",
      ].join('\n'),
    );
    expect(fine).toEqual([]);
  });
});
