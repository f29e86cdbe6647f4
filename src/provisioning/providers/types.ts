// What the provisioning domain needs from a carrier, whatever the carrier. Two families of carriers
// exist: those that answer a purchase at once (Vonage, Twilio) and those that answer with an order to
// poll (Telnyx, Bandwidth). Every mutating call returns an `Outcome`: `done`, or `pending` with an order
// id that `orderStatus` is asked about until it is `done` or throws. Callers never care which kind of
// carrier they talk to; the job runner polls pending orders with the same back-off as retries.

/** Where a number sends its calls: a SIP URI (our Asterisk, a SIP domain), a phone number, or a carrier application. */
export type VoiceRouting =
  | { type: 'sip'; value: string }
  | { type: 'tel'; value: string }
  | { type: 'app'; value: string };

export interface NumberRef {
  /** ISO 3166-1 alpha-2 (`US`). */
  country: string;
  /** Digits only, E.164 without the plus (`14155550100`), as carriers write it. */
  msisdn: string;
}

export interface SearchQuery {
  country: string;
  /** `landline`, `mobile-lvn`, `landline-toll-free`. */
  type?: string | undefined;
  /** Digits to match; with `match` saying where. */
  pattern?: string | undefined;
  match?: 'starts' | 'contains' | 'ends' | undefined;
  /** Capabilities the number must have (`VOICE`, `SMS`). */
  features?: string[] | undefined;
  /** At most 100. */
  size?: number | undefined;
  /** 1-based page. */
  index?: number | undefined;
}

export interface AvailableNumber extends NumberRef {
  type: string;
  features: string[];
  cost?: string | undefined;
}

export interface OwnedNumber extends NumberRef {
  type: string;
  features: string[];
  voice: VoiceRouting | null;
}

/** Which account of the carrier acts: the primary account (undefined) or a subaccount's key. */
export type AccountRef = string | undefined;

export type Outcome = { status: 'done' } | { status: 'pending'; orderId: string };

export interface Subaccount {
  apiKey: string;
  name: string;
  /** Only on creation: the subaccount's secret (stored encrypted, never shown). */
  secret?: string | undefined;
  suspended: boolean;
}

export interface SipDomain {
  name: string;
  applicationId: string | null;
  /** Addresses allowed to send calls to the domain (CIDRs or single addresses). */
  acl: string[];
}

export interface Provider {
  readonly kind: string;
  search(q: SearchQuery): Promise<{ count: number; numbers: AvailableNumber[] }>;
  buy(n: NumberRef, account: AccountRef): Promise<Outcome>;
  configure(n: NumberRef, routing: VoiceRouting, account: AccountRef): Promise<Outcome>;
  release(n: NumberRef, account: AccountRef): Promise<Outcome>;
  /** For carriers that answer with orders; the others answer `done` for any order id. */
  orderStatus(orderId: string): Promise<Outcome>;
  /** One page of the numbers an account owns; `pattern` narrows to numbers containing it. */
  owned(
    account: AccountRef,
    q?: { pattern?: string | undefined; index?: number | undefined; size?: number | undefined },
  ): Promise<{ count: number; numbers: OwnedNumber[] }>;
  /** `secret` (ours, so a crash after the request can still adopt the subaccount) or the carrier's. */
  createSubaccount(name: string, secret?: string): Promise<Subaccount>;
  listSubaccounts(): Promise<Subaccount[]>;
  /** Moves a number between the primary account and its subaccounts (or between two subaccounts). */
  transfer(n: NumberRef, from: string, to: string): Promise<Outcome>;
  createSipDomain(d: SipDomain): Promise<SipDomain>;
  listSipDomains(): Promise<SipDomain[]>;
  deleteSipDomain(name: string): Promise<void>;
}

/**
 * How a carrier failure is to be treated. Only `ProviderError.kind` drives decisions; the carrier's own
 * code and text ride along for people.
 * - transient: try again later (429, 5xx, a timeout, a dropped connection); `retryAfterMs` if the carrier said.
 * - uncertain: the carrier may have done it (Vonage's 420 on buy/update): check before trying again.
 * - unavailable: the number is not for sale (no inventory, or bought by someone else meanwhile).
 * - not_owned: the account does not own the number (release/update of a number that is not ours).
 * - auth: the credentials are wrong.
 * - not_provisioned: the carrier has not enabled this API for the account.
 * - invalid: the carrier refused the request as malformed (our bug or a bad input).
 * - limit: an account-level limit was reached (e.g. the maximum number of subaccounts).
 */
export type ProviderErrorKind =
  | 'transient'
  | 'uncertain'
  | 'unavailable'
  | 'not_owned'
  | 'auth'
  | 'not_provisioned'
  | 'invalid'
  | 'limit';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly detail: {
      status?: number | undefined;
      carrierCode?: string | undefined;
      retryAfterMs?: number | undefined;
      operation?: string | undefined;
    } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export const isProviderError = (e: unknown, kind?: ProviderErrorKind): e is ProviderError =>
  e instanceof ProviderError && (kind === undefined || e.kind === kind);

/** E.164 (`+14155550100`) to a carrier's number reference. */
export function numberRef(e164: string, country = 'US'): NumberRef {
  return { country, msisdn: e164.replace(/^\+/, '') };
}

export const toE164 = (msisdn: string) => `+${msisdn.replace(/^\+/, '')}`;
