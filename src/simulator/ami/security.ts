// AMI's security events (main/security_events.c, reported by manager.c), sent to every session that
// may read the `security` class: SuccessfulAuth, InvalidAccountID, FailedACL, InvalidPassword,
// ChallengeResponseFailed, RequestNotAllowed, RequestBadFormat, SessionLimit. Each carries the
// fields of its entry in Asterisk's sec_events table in that order: the common head, the required
// fields, then the optional ones Asterisk has a value for (manager.c gives FailedACL no ACL name).
// (ChallengeSent is a SIP event.)
import { asteriskTime } from '../model.ts';
import type { Fields } from './protocol.ts';
import type { Session } from './session.ts';

export type SecurityEvent =
  | { kind: 'SuccessfulAuth' }
  | { kind: 'InvalidAccountID'; account: string }
  | { kind: 'FailedACL'; account: string }
  | { kind: 'SessionLimit' }
  | { kind: 'InvalidPassword'; account: string }
  | { kind: 'ChallengeResponseFailed'; challenge: string; response: string; expected: string }
  | { kind: 'RequestNotAllowed'; action: string }
  | { kind: 'RequestBadFormat'; action: string };

const VERSION: Record<SecurityEvent['kind'], number> = {
  SuccessfulAuth: 1,
  InvalidAccountID: 1,
  FailedACL: 1,
  SessionLimit: 1,
  InvalidPassword: 2,
  ChallengeResponseFailed: 1,
  RequestNotAllowed: 1,
  RequestBadFormat: 1,
};

/** `IPV4/TCP/<address>/<port>`, as ast_sockaddr and the transport print it. */
const address = (ip: string | undefined, port: number | undefined) => {
  const a = (ip ?? '').replace(/^::ffff:/, '');
  return `${a.includes(':') ? 'IPV6' : 'IPV4'}/TCP/${a}/${port ?? 0}`;
};

export function securityEvent(s: Session, e: SecurityEvent): Fields {
  const account =
    e.kind === 'InvalidAccountID' || e.kind === 'InvalidPassword' || e.kind === 'FailedACL'
      ? e.account
      : s.username;
  const head: Fields = [
    ['Event', e.kind],
    ['Privilege', 'security,all'],
    ['EventTV', asteriskTime(new Date())],
    ['Severity', e.kind === 'SuccessfulAuth' ? 'Informational' : 'Error'],
    ['Service', 'AMI'],
    ['EventVersion', VERSION[e.kind]],
  ];
  const where: Fields = [
    ['SessionID', s.sessionId],
    ['LocalAddress', address(s.localAddress, s.localPort)],
    ['RemoteAddress', address(s.remoteAddress, s.remotePort)],
  ];
  const sessionTv: Fields = [['SessionTV', asteriskTime(s.startedAt)]];
  // RequestBadFormat is the one whose account is optional, so it comes after SessionTV.
  if (e.kind === 'RequestBadFormat')
    return [...head, ...where, ['RequestType', `Action: ${e.action}`], ...sessionTv, ['AccountID', account]];
  const required: Fields =
    e.kind === 'SuccessfulAuth'
      ? [['UsingPassword', 0]] // manager.c never sets it
      : e.kind === 'RequestNotAllowed'
        ? [['RequestType', `Action: ${e.action}`]]
        : e.kind === 'ChallengeResponseFailed'
          ? [
              ['Challenge', e.challenge],
              ['Response', e.response],
              ['ExpectedResponse', e.expected],
            ]
          : [];
  return [...head, ['AccountID', account], ...where, ...required, ...sessionTv];
}
