import type { FastifyRequest } from 'fastify';
import type { Actor } from '../service/audit.ts';

/** Who the audit trail records for a request: the API key it authenticated with. */
export const actor = (req: FastifyRequest): Actor => ({ keyId: req.principal?.keyId ?? null });
