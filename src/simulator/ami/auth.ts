// The session's own actions: Login (with its MD5 Challenge), Events, Filter, and the answers to an
// action before login or one manager.c does not know, each with the security event Asterisk
// reports for it (security.ts).
import { createHash, randomInt } from 'node:crypto';
import { parseFilter } from './filters.ts';
import { EVENT_CLASS, eventMask, packet } from './protocol.ts';
import { securityEvent } from './security.ts';
import type { Action, ActionContext } from './session.ts';
import { aclAllows } from './user.ts';

export const error = (ctx: ActionContext, message: string) =>
  ctx.reply([
    ['Response', 'Error'],
    ['Message', message],
  ]);

/** Actions answered before login (every other one is `Permission denied` until then). */
export const BEFORE_LOGIN = new Set(['login', 'logoff', 'challenge']);

/** The read classes of the simulator's one manager user (manager.conf `read = all`). */
export const READ_PERM = EVENT_CLASS.all!;

/**
 * Login as manager.c's authenticate() checks it: a user that does not exist (InvalidAccountID), an
 * address the user's ACL denies (FailedACL), an MD5 key that does not match the session's challenge (ChallengeResponseFailed), a wrong secret
 * (InvalidPassword); each reported at once, the answer after about a second, then the connection
 * closed. A good login takes the `Events` classes it names (else the user's read classes: all),
 * is answered, gets FullyBooted if it may read `system` events (written to the session itself,
 * past any filter), and is reported to every security reader, itself included, as SuccessfulAuth.
 */
const login: Action = (ctx) => {
  const { core, f, session } = ctx;
  if (session.loggedIn)
    return ctx.reply([
      ['Response', 'Success'],
      ['Message', 'Already authenticated'],
    ]);
  const user = f.username ?? '';
  let ok = false;
  if (!user) ok = false;
  else if (user !== core.user) ctx.event(securityEvent(session, { kind: 'InvalidAccountID', account: user }));
  else if (!aclAllows(core.options.acl, session.remoteAddress))
    ctx.event(securityEvent(session, { kind: 'FailedACL', account: user }));
  else if ((f.authtype ?? '').toLowerCase() === 'md5') {
    const key = f.key ?? '';
    if (key && session.challenge) {
      const expected = createHash('md5').update(session.challenge).update(core.secret).digest('hex');
      ok = key === expected;
      if (!ok)
        ctx.event(
          securityEvent(session, {
            kind: 'ChallengeResponseFailed',
            challenge: session.challenge,
            response: key,
            expected,
          }),
        );
    }
  } else {
    ok = (f.secret ?? '') === core.secret;
    if (!ok) ctx.event(securityEvent(session, { kind: 'InvalidPassword', account: user }));
  }
  if (!ok) {
    setTimeout(() => {
      error(ctx, 'Authentication failed');
      session.end();
    }, core.badLoginDelayMs);
    return;
  }
  session.loggedIn = true;
  session.username = user;
  session.startedAt = new Date();
  const mask = f.events ? eventMask(f.events) : -1;
  session.sendEvents = mask >= 0 ? READ_PERM & mask : READ_PERM;
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Authentication accepted'],
  ]);
  if (session.sendEvents & EVENT_CLASS.system!) {
    const since = (d: Date) => Math.floor((Date.now() - d.getTime()) / 1000);
    session.write(
      packet([
        ['Event', 'FullyBooted'],
        ['Privilege', 'system,all'],
        ['Uptime', since(core.started)],
        ['LastReload', since(core.reloaded)],
        ['Status', 'Fully Booted'],
      ]),
    );
  }
  ctx.event(securityEvent(session, { kind: 'SuccessfulAuth' }));
};

/**
 * A Login or Challenge naming a user already logged in on another session, when the user does not
 * allow multiple logins (manager.c process_message): SessionLimit, then about a second later
 * `Login Already In Use`, and the connection is closed. True when the action was refused so.
 */
export function refusedAsInUse(ctx: ActionContext): boolean {
  const { core, f, session } = ctx;
  const user = f.username ?? '';
  if (!user || core.options.allowMultipleLogin || user !== core.user || !ctx.inUse(user)) return false;
  ctx.event(securityEvent(session, { kind: 'SessionLimit' }));
  setTimeout(() => {
    error(ctx, 'Login Already In Use');
    session.end();
  }, core.badLoginDelayMs);
  return true;
}

/** Challenge: the MD5 challenge a `Login` with `AuthType: MD5` answers with its `Key`. */
const challenge: Action = (ctx) => {
  if ((ctx.f.authtype ?? '').toLowerCase() !== 'md5') return error(ctx, 'Must specify AuthType');
  ctx.session.challenge ??= String(randomInt(0, 2 ** 31 - 1));
  ctx.reply([
    ['Response', 'Success'],
    ['Challenge', ctx.session.challenge],
  ]);
};

const filter: Action = (ctx) => {
  // Session filters: Asterisk asks for the `system` permission; the simulator's one user has it.
  const { f, session } = ctx;
  if ((f.operation ?? '').toLowerCase() !== 'add') return error(ctx, 'Unknown operation');
  const parsed = parseFilter(f.matchcriteria ?? '', f.filter ?? '');
  if (parsed === 'format')
    return error(ctx, 'Filter was formatted incorrectly.  Check the syntax of the filter given.');
  if (parsed === 'compile')
    return error(ctx, 'Filter did not compile.  Check the syntax of the filter given.');
  session.filters ??= { include: [], exclude: [] };
  (parsed.exclude ? session.filters.exclude : session.filters.include).push(parsed);
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Success'],
  ]);
};

export const SESSION_ACTIONS: Record<string, Action> = {
  login,
  challenge,
  filter,
  events: (ctx) => {
    // EventMask as strings_to_mask reads it; the session gets the classes its user may read.
    const mask = eventMask(ctx.f.eventmask ?? '');
    if (mask < 0) return error(ctx, 'Invalid event mask');
    ctx.session.sendEvents = READ_PERM & mask;
    ctx.reply([
      ['Response', 'Success'],
      ['Events', mask > 0 ? 'On' : 'Off'],
    ]);
  },
};

/** An action manager.c does not know: the error, then RequestBadFormat (Asterisk reports it first,
 * but security events travel through Stasis and reach the session after the answer). */
export const unknownAction: Action = (ctx) => {
  const action = ctx.f.action ?? '';
  if (!action) {
    error(ctx, 'Missing action in request');
    return ctx.event(securityEvent(ctx.session, { kind: 'RequestBadFormat', action: 'NONE' }));
  }
  error(ctx, `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`);
  ctx.event(securityEvent(ctx.session, { kind: 'RequestBadFormat', action }));
};

/** An action other than Login, Logoff or Challenge before login. */
export const notLoggedIn: Action = (ctx) => {
  error(ctx, 'Permission denied');
  ctx.event(securityEvent(ctx.session, { kind: 'RequestNotAllowed', action: ctx.f.action ?? '' }));
};
