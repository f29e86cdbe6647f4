// app_dial's pure decisions: the status of a dial nobody answered (wait_for_answer with handle_cause's
// counts), the dial status a callee's hangup cause gives, the options string as parse_options reads
// it, the arguments split as ast_app_separate_args splits them, what GOSUB_RESULT decides, and the
// account codes a callee takes from its caller.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appArgs,
  countCause,
  dialOptions,
  gosubResult,
  hangupDialStatus,
  requestorAccountcodes,
  unansweredStatus,
} from '../../src/simulator/app-dial.ts';
import type { SimChannel } from '../../src/simulator/model.ts';

const cause = fc.integer({ min: 1, max: 127 });

describe('DIALSTATUS of a dial nobody answered', () => {
  it('BUSY only when every line failed with a counted cause and one was busy; CONGESTION, then CHANUNAVAIL likewise', () => {
    fc.assert(
      fc.property(fc.array(cause, { maxLength: 8 }), fc.nat({ max: 3 }), (causes, stillRinging) => {
        const n = { busy: 0, congestion: 0, nochan: 0 };
        for (const c of causes) countCause(c, n);
        const lines = causes.length + stillRinging;
        const status = unansweredStatus(lines, n);
        const counted = causes.filter((c) => c !== 16 && c !== 19);
        const allFailed = stillRinging === 0 && counted.length === causes.length && causes.length > 0;
        const want = !allFailed
          ? 'NOANSWER'
          : causes.includes(17)
            ? 'BUSY'
            : causes.includes(34)
              ? 'CONGESTION'
              : 'CHANUNAVAIL';
        expect(status).toBe(want);
      }),
      { numRuns: 500 },
    );
  });

  it('a normal clearing or no answer is never counted; every other cause is exactly one count', () => {
    fc.assert(
      fc.property(cause, (c) => {
        const n = { busy: 0, congestion: 0, nochan: 0 };
        countCause(c, n);
        expect(n.busy + n.congestion + n.nochan).toBe(c === 16 || c === 19 ? 0 : 1);
      }),
      { numRuns: 200 },
    );
  });

  it('a callee hung up before answering ends the dial with the status its cause gives', () => {
    expect([17, 34, 3, 20, 19, 16, 21].map(hangupDialStatus)).toEqual([
      'BUSY',
      'CONGESTION',
      'CHANUNAVAIL',
      'CHANUNAVAIL',
      'NOANSWER',
      'NOANSWER',
      'NOANSWER',
    ]);
  });
});

describe('the options string', () => {
  it('M and other letters app_dial lacks are reported and their argument skipped; the rest still apply', () => {
    const o = dialOptions('M(mac^a(b)c)gU(sub^x)r');
    expect(o.unknown).toEqual(['M']);
    expect([o.goOn, o.ringback, o.calleeSub, o.invalid]).toEqual([true, true, 'sub^x', false]);
  });

  it('an argument without its closing parenthesis fails the whole string', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('g', 'r', 'S', 'U', 'L', 'M'),
        fc.stringMatching(/^[a-z0-9^]*$/),
        (letter, arg) => {
          expect(dialOptions(`g${letter}(${arg}`).invalid).toBe(true);
          expect(dialOptions(`g${letter}(${arg})`).invalid).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('arguments split at the commas outside parentheses only', () => {
    expect(appArgs('PJSIP/a&PJSIP/b,30,U(sub,x)g')).toEqual(['PJSIP/a&PJSIP/b', '30', 'U(sub,x)g']);
    expect(appArgs('')).toEqual(['']);
  });
});

describe('GOSUB_RESULT', () => {
  it('decides the status, the go-on and the DialEnd status as dial_exec_full does', () => {
    const never = () => {
      throw new Error('no goto expected');
    };
    expect(gosubResult('BUSY', never)).toEqual({ event: 'BUSY', status: 'BUSY', goOn: true });
    expect(gosubResult('chanunavail', never)).toEqual({
      event: 'chanunavail',
      status: 'chanunavail',
      goOn: true,
    });
    expect(gosubResult('CONTINUE', never)).toEqual({ event: 'CONTINUE', goOn: true });
    expect(gosubResult('ABORT', never)).toEqual({ event: 'ABORT', goOn: false });
    expect(gosubResult('', never)).toBeNull();
    expect(gosubResult('ANSWER', never)).toBeNull();
    const went: string[] = [];
    expect(gosubResult('GOTO:ctx^s^2', (t) => went.push(t) > 0)).toEqual({
      event: 'GOTO:ctx,s,2',
      goOn: true,
    });
    expect(went).toEqual(['ctx,s,2']);
    // A place that cannot be reached: no go-on (the caller is hung up unless `g`).
    expect(gosubResult('GOTO:nowhere', () => false)).toEqual({ event: 'GOTO:nowhere', goOn: false });
  });
});

describe('account codes a callee takes from its caller (ast_channel_req_accountcodes, BRIDGE_PEER)', () => {
  const code = fc.oneof(fc.constant(''), fc.constantFrom('acme', 'buyer7', 'trunk42'));
  it("the caller's peer account, else its account code, over the endpoint's; the caller's code as peer account", () => {
    fc.assert(
      fc.property(code, code, code, (callerCode, callerPeer, endpointCode) => {
        const c = { accountcode: callerCode, peeraccount: callerPeer } as SimChannel;
        const tc = { accountcode: endpointCode } as SimChannel;
        requestorAccountcodes(tc, c);
        expect(tc.accountcode).toBe(callerPeer || callerCode || endpointCode);
        expect(tc.peeraccount ?? '').toBe(callerCode);
      }),
      { numRuns: 200 },
    );
  });
});

describe('option m', () => {
  it('gives music on hold with its class argument (empty when none), and nothing without it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', 'jazz', 'default'),
        fc.constantFrom('', 'g', 'r', 'gS(5)'),
        (cls, rest) => {
          expect(dialOptions(`${rest}m${cls ? `(${cls})` : ''}`).moh).toBe(cls);
          expect(dialOptions(rest).moh).toBeNull();
        },
      ),
      { numRuns: 50 },
    );
  });
});
