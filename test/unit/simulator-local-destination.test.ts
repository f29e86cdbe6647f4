// A Local destination's parts, as chan_local's local_alloc reads them: the options after the last
// `/` (`n`: the pair may not optimise itself away), `<exten>@<context>`, no context being `default`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localDestination, parseLocal } from '../../src/simulator/originate.ts';

describe('a Local destination, read as chan_local local_alloc reads it', () => {
  const word = fc.stringMatching(/^[a-z0-9+*#_-]{1,8}$/);
  it('options follow the last `/` (`n`: no optimisation); no `@context` is `default`', () => {
    fc.assert(
      fc.property(
        word,
        fc.option(word),
        fc.option(fc.stringMatching(/^[a-z]{0,4}$/)),
        (exten, context, opts) => {
          const data = `${exten}${context === null ? '' : `@${context}`}${opts === null ? '' : `/${opts}`}`;
          expect(localDestination(data)).toEqual({
            exten,
            context: context ?? 'default',
            noOptimize: opts?.includes('n') ?? false,
          });
          // A Local dial string is the same destination behind `Local/` when it names its context.
          if (context !== null) expect(parseLocal(`Local/${data}`)).toEqual(localDestination(data));
        },
      ),
      { numRuns: 300 },
    );
    expect(parseLocal('PJSIP/desk')).toBeNull();
  });
});
