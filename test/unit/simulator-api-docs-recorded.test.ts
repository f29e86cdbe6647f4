// The simulator's api-docs against what a real Asterisk 22.10.1 served (fixture: each document as
// recorded, summarised to its operations and models), so a route added, dropped or mis-typed in
// the simulator's table shows up here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/simulator/ari/routes.ts';
import { resourceDoc, resourceListing } from '../../src/simulator/ari/spec.ts';

type Recorded = {
  path: string;
  apiDoc: {
    apiVersion: string;
    swaggerVersion: string;
    apis?: string[];
    operations?: string[];
    models?: Record<string, string>;
    requiresModules?: string[];
  };
};

const recorded: Recorded[] = JSON.parse(
  readFileSync(new URL('../fixtures/asterisk-wire/api-docs.json', import.meta.url), 'utf8'),
);

type Doc = NonNullable<ReturnType<typeof resourceDoc>>;

/** The recording's summary of a document: `METHOD path nickname(params) -> class errors=...`. */
function summarise(d: Doc) {
  const operations: string[] = [];
  for (const a of d.apis)
    for (const op of a.operations) {
      const params = op.parameters.map(
        (p) => `${p.name}:${p.paramType}${p.required ? '!' : ''}${p.allowMultiple ? '*' : ''}`,
      );
      const errs = op.errorResponses.map((e) => e.code).sort((x, y) => x - y);
      operations.push(
        `${op.httpMethod} ${a.path} ${op.nickname}(${params.join(', ')}) -> ${op.responseClass}${errs.length ? ` errors=${errs.join(',')}` : ''}${'upgrade' in op && op.upgrade ? ` upgrade=${op.upgrade}` : ''}`,
      );
    }
  const models: Record<string, string> = {};
  for (const [name, m] of Object.entries(
    d.models as Record<string, { properties: Record<string, { type: string; required: boolean }> }>,
  ))
    models[name] = Object.entries(m.properties)
      .map(([k, p]) => `${k}${p.required ? '!' : ''}:${p.type}`)
      .join(', ');
  return { operations, models };
}

describe('the simulator api-docs against a real Asterisk 22.10.1', () => {
  it('lists the same resources under the same versions', () => {
    const real = recorded.find((r) => r.path.endsWith('/resources.json'))!.apiDoc;
    const sim = resourceListing('h');
    expect(sim.apiVersion).toBe(real.apiVersion);
    expect(sim.swaggerVersion).toBe(real.swaggerVersion);
    expect(sim.apis.map((a) => a.path)).toEqual(real.apis);
  });

  for (const r of recorded.filter((x) => !x.path.endsWith('/resources.json'))) {
    const name = /api-docs\/(\w+)\.json$/.exec(r.path)![1]!;
    it(`${name}: every operation, parameter, error status and model as Asterisk documents them`, () => {
      const doc = resourceDoc(name, 'h', ROUTES)!;
      expect(doc.apiVersion).toBe(r.apiDoc.apiVersion);
      expect(doc.swaggerVersion).toBe(r.apiDoc.swaggerVersion);
      expect(doc.requiresModules).toEqual(r.apiDoc.requiresModules);
      const s = summarise(doc);
      expect(s.operations.sort()).toEqual([...(r.apiDoc.operations ?? [])].sort());
      expect(s.models).toEqual(r.apiDoc.models ?? {});
    });
  }
});
