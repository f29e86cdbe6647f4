// Carrier failures as API errors, in one place: a ProviderError's kind picks the catalogue code, the
// carrier's own code and status ride along in `details` for people.
import { AppError } from '../platform/http/errors.ts';
import { type ProviderError, isProviderError } from './providers/types.ts';

export function carrierError(e: ProviderError, extra: Record<string, unknown> = {}): AppError {
  const details = {
    ...extra,
    reason: e.kind,
    ...(e.detail.status ? { carrier_status: e.detail.status } : {}),
    ...(e.detail.carrierCode ? { carrier_code: e.detail.carrierCode } : {}),
  };
  switch (e.kind) {
    case 'unavailable':
    case 'not_owned':
    case 'limit':
      return new AppError('CONFLICT', e.message, details);
    case 'invalid':
      return new AppError('BAD_REQUEST', `the carrier refused the request: ${e.message}`, details);
    case 'auth':
      return new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `the carrier refused the account's credentials: ${e.message}`,
        details,
      );
    case 'not_provisioned':
      return new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `the carrier has not enabled this API for the account (${e.message}); ask the carrier to enable it, or set use_subaccounts=false on the provider account`,
        details,
      );
    default:
      return new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `the carrier did not answer usefully: ${e.message}`,
        details,
      );
  }
}

/** Rethrows carrier failures as API errors; anything else unchanged. */
export function asApiError(e: unknown): never {
  if (isProviderError(e)) throw carrierError(e);
  throw e;
}
