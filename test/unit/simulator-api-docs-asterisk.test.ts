// The simulator's api-docs, item by item, against Asterisk 22.10.1's own documents
// (test/fixtures/asterisk-api-docs/: rest-api/resources.json and rest-api/api-docs/*.json as they
// stand at Asterisk's 22.10.1 tag; see the README there). Every resource, every operation (method,
// path, nickname, summary, response class, websocket upgrade), every parameter (name, place, type,
// required, allowMultiple, default, allowable values) and every error status with its reason, every
// model with every property (type, required), its subtypes, discriminator and parent. Only the prose
// (descriptions, notes) and the `since` version lists are left out. The simulator's documents are
// generated from its route table, so a difference here is fixed in the table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/simulator/ari/routes.ts';
import { resourceDoc, resourceListing } from '../../src/simulator/ari/spec.ts';

type Json = Record<string, unknown>;

const load = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../fixtures/asterisk-api-docs/${name}.json`, import.meta.url), 'utf8'));

const listing = load('resources');
const resourceNames = (listing.apis as { path: string }[]).map((a) => /api-docs\/(\w+)\./.exec(a.path)![1]!);

/** One parameter as a line: everything but its description. */
function param(p: Json): string {
  const allow = p.allowableValues as Json | undefined;
  const parts = [
    `${p.paramType}:${p.name}`,
    `type=${p.dataType}`,
    `required=${p.required ?? false}`,
    `allowMultiple=${p.allowMultiple ?? false}`,
  ];
  if (p.defaultValue !== undefined) parts.push(`default=${JSON.stringify(p.defaultValue)}`);
  if (allow)
    parts.push(
      allow.valueType === 'LIST'
        ? `values=${JSON.stringify(allow.values)}`
        : `range=${allow.min ?? ''}..${allow.max ?? ''}`,
    );
  return parts.join(' ');
}

/**
 * A document flattened to one line per item, keyed so that a difference names the item:
 * `op GET /channels/{channelId} param:path:channelId` and so on.
 */
function flatten(doc: Json): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of ['apiVersion', 'swaggerVersion', 'resourcePath'])
    if (doc[k] !== undefined) out.set(k, String(doc[k]));
  if (doc.requiresModules) out.set('requiresModules', JSON.stringify(doc.requiresModules));
  const apis = (doc.apis ?? []) as Json[];
  out.set('paths', apis.map((a) => a.path).join(' '));
  for (const a of apis) {
    const ops = a.operations as Json[];
    out.set(`api ${a.path}`, ops.map((o) => o.httpMethod).join(' '));
    for (const o of ops) {
      const key = `op ${o.httpMethod} ${a.path}`;
      out.set(
        key,
        [
          `nickname=${o.nickname}`,
          `responseClass=${o.responseClass}`,
          `summary=${JSON.stringify(o.summary)}`,
          ...(o.upgrade ? [`upgrade=${o.upgrade} websocketProtocol=${o.websocketProtocol}`] : []),
        ].join(' '),
      );
      const params = (o.parameters ?? []) as Json[];
      out.set(`${key} params`, params.map((p) => `${p.paramType}:${p.name}`).join(' '));
      for (const p of params) out.set(`${key} param ${p.paramType}:${p.name}`, param(p));
      const errors = (o.errorResponses ?? []) as Json[];
      out.set(`${key} errors`, errors.map((e) => `${e.code} ${JSON.stringify(e.reason)}`).join(' | '));
    }
  }
  const models = (doc.models ?? {}) as Record<string, Json>;
  out.set('models', Object.keys(models).join(' '));
  for (const [name, m] of Object.entries(models)) {
    out.set(
      `model ${name}`,
      [
        `id=${m.id}`,
        ...(m.extends ? [`extends=${m.extends}`] : []),
        ...(m.discriminator ? [`discriminator=${m.discriminator}`] : []),
        ...(m.subTypes ? [`subTypes=${(m.subTypes as string[]).join(',')}`] : []),
      ].join(' '),
    );
    const props = (m.properties ?? {}) as Record<string, Json>;
    out.set(`model ${name} properties`, Object.keys(props).join(' '));
    for (const [k, p] of Object.entries(props)) {
      const allow = p.allowableValues as Json | undefined;
      out.set(
        `model ${name}.${k}`,
        `type=${p.type} required=${p.required ?? false}${allow ? ` values=${JSON.stringify(allow.values)}` : ''}`,
      );
    }
  }
  return out;
}

/** Every item where the two differ, as `key: asterisk=... simulator=...`. */
function differences(asterisk: Map<string, string>, sim: Map<string, string>): string[] {
  const out: string[] = [];
  for (const k of new Set([...asterisk.keys(), ...sim.keys()]))
    if (asterisk.get(k) !== sim.get(k))
      out.push(
        `${k}\n    asterisk:  ${asterisk.get(k) ?? '(none)'}\n    simulator: ${sim.get(k) ?? '(none)'}`,
      );
  return out;
}

describe("the simulator's api-docs against Asterisk 22.10.1's rest-api documents", () => {
  it('resources.json: the same version, resources in the same order, the same descriptions', () => {
    const sim = resourceListing('localhost:8088');
    expect(sim.apiVersion).toBe(listing.apiVersion);
    expect(sim.swaggerVersion).toBe(listing.swaggerVersion);
    expect(sim.apis).toEqual(
      (listing.apis as Json[]).map((a) => ({ path: a.path, description: a.description })),
    );
  });

  for (const name of resourceNames) {
    it(`${name}.json: every operation, parameter, error and model`, () => {
      const doc = resourceDoc(name, 'localhost:8088', ROUTES) as unknown as Json;
      expect(differences(flatten(load(name)), flatten(doc))).toEqual([]);
    });
  }
});
