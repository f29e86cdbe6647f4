import { describe, expect, it } from 'vitest';
import { ROUTES, TREE } from '../../src/simulator/ari/routes.ts';
import {
  nickname,
  parseArgs,
  parseParam,
  resourceDoc,
  resourceListing,
} from '../../src/simulator/ari/spec.ts';

const segs = (path: string) =>
  path
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/^\{(\w+)\}$/, 'x-$1'));

describe('the simulator ARI route table', () => {
  it('resolves every route by its own method and path, with the path variables named', () => {
    for (const r of ROUTES) {
      const found = TREE.resolve(r.spec.httpMethod, segs(r.spec.path));
      expect('route' in found && found.route, `${r.spec.httpMethod} ${r.spec.path}`).toBe(r);
      for (const v of r.spec.path.match(/\{\w+\}/g) ?? [])
        expect('path' in found && found.path[v.slice(1, -1)]).toBe(`x-${v.slice(1, -1)}`);
    }
  });

  it('answers 404 for an unknown path and 405 for a known path without the method, as Asterisk', () => {
    expect(TREE.resolve('GET', ['no-such-resource'])).toEqual({
      status: 404,
      body: { message: 'Resource not found' },
    });
    expect(TREE.resolve('PUT', ['channels'])).toEqual({ status: 405, body: { message: 'Invalid method' } });
    // A literal segment wins over a variable, with no going back: GET /channels/create is 405.
    expect(TREE.resolve('GET', ['channels', 'create'])).toEqual({
      status: 405,
      body: { message: 'Invalid method' },
    });
  });

  it('documents exactly the operations it serves, under the resource listing Asterisk 22 serves', () => {
    const listing = resourceListing('h:1');
    expect(listing.apiVersion).toBe('10.0.0');
    expect(listing.swaggerVersion).toBe('1.1');
    const documented: string[] = [];
    for (const api of listing.apis) {
      const name = /\/api-docs\/(\w+)\./.exec(api.path)![1]!;
      const doc = resourceDoc(name, 'h:1', ROUTES)!;
      expect(doc.basePath).toBe('http://h:1/ari');
      for (const a of doc.apis)
        for (const op of a.operations) documented.push(`${op.httpMethod} ${a.path} ${op.nickname}`);
    }
    expect(documented.sort()).toEqual(
      ROUTES.map((r) => `${r.spec.httpMethod} ${r.spec.path} ${nickname(r)}`).sort(),
    );
  });

  it('reads arguments as Asterisk does: typed query values, a JSON body winning, documented defaults', () => {
    const dial = ROUTES.find((r) => r.spec.path === '/channels/{channelId}/dial')!;
    const a = parseArgs(dial, { channelId: 'c1' }, new URLSearchParams('timeout=12abc&caller=x'), {
      caller: 'y',
    });
    expect(a).toMatchObject({ channelId: 'c1', timeout: 12, caller: 'y' });
    expect(parseArgs(dial, { channelId: 'c1' }, new URLSearchParams(), undefined).timeout).toBe(0);
    expect(parseParam('query:channel:string!*')).toMatchObject({ required: true, allowMultiple: true });
    expect(parseParam('query:direction:string=both{both|in|out}').allowable).toEqual({
      values: ['both', 'in', 'out'],
    });
  });
});
