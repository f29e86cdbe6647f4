// Re-authentication before sensitive changes (turning two-factor sign-in off, a new API key): the
// form carries the user's password and, when TOTP is on, a current code; both are checked under the
// sign-in failure delays before the change runs.
import type { FastifyRequest } from 'fastify';
import { type Html, html } from './html.ts';
import { userOf } from './plugin.ts';
import type { ConsoleServices } from './services.ts';
import type { ConsoleUser } from './users.ts';

export const DEVICE_COOKIE = 'cc_device';

/** The fields a sensitive form adds. */
export function reauthFields(u: ConsoleUser): Html {
  return html`<fieldset class="reauth"><legend>Confirm it is you</legend>
<label>Your password <input type="password" name="reauth_password" required maxlength="200" autocomplete="current-password"></label>
${u.totp ? html`<label>Code from your authenticator app <input name="reauth_code" required inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code"></label>` : ''}</fieldset>`;
}

/** Throws REAUTH_FAILED (403) or AUTH_RATE_LIMITED (429) unless the form proves the user again. */
export async function requireReauth(s: ConsoleServices, req: FastifyRequest): Promise<void> {
  const b = (req.body ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const u = userOf(req);
  await s.users.reauthenticate(u.id, str(b.reauth_password).slice(0, 200), str(b.reauth_code).trim(), {
    source: req.ip,
    account: u.email,
    device: req.cookies[DEVICE_COOKIE] ?? null,
  });
}
