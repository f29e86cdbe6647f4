// What the PBX services are configured with (from the daemon's config, see pbx/index.ts).
import type { OptionDefaults } from '../options.ts';

export interface ApplyOptions {
  /** Send AMI `Reload res_pjsip.so` before checking the endpoints. */
  reload: boolean;
  timeoutMs: number;
  /** PJSIPShowEndpoint checks in flight per node. */
  concurrency: number;
  /** Aborts when the apply must stop (its lock was lost): no further endpoint is checked. */
  signal?: AbortSignal;
}

export interface PbxSettings {
  extensionMin: number;
  extensionMax: number;
  transport: string | null;
  userContext: string;
  clientContext: string;
  sellerContext: string;
  codecs: string[];
  apply: ApplyOptions;
  lockTtlMs: number;
  lockKey: string;
}

/** The option defaults of an endpoint in `context`. */
export const defaultsIn = (s: PbxSettings, context: string): OptionDefaults => ({
  context,
  transport: s.transport,
  codecs: s.codecs,
});
