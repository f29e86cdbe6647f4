// Numbers at carriers: search, provision one or a batch, configure, release (/v1/numbers...), and the
// jobs they run as (/v1/jobs/{id}). Changes are admin/staff; a seller key reads its own numbers and jobs.
// One-number forms wait up to ONE_NUMBER_WAIT_MS for their job and answer its result, or 202 with the
// job id when it takes longer; batch forms answer 202 at once.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF, STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams, page, pageQuery } from '../../platform/http/paging.ts';
import {
  configureIn,
  e164Params,
  idempotencyHeaders,
  numberView,
  numbersBatchIn,
  provisionBatchIn,
  provisionIn,
  releaseBatchIn,
  searchIn,
  searchQueryOf,
} from '../schemas.ts';
import { jobAcceptedDoc, jobDoc, ownedNumberDoc, searchDoc } from '../examples.ts';
import type { ProvisioningService } from '../service.ts';
import type { JobKind } from '../../db/schema/provisioning.ts';
import { withExample, withResponseExample } from '../../platform/http/examples.ts';

const ONE_NUMBER_WAIT_MS = 25_000;

export function numberRoutes(svc: ProvisioningService) {
  return async function numbers(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const staff = { auth: { roles: STAFF } };
    const tags = ['provisioning'];
    const idem = (req: FastifyRequest) => {
      const h = req.headers['idempotency-key'];
      return typeof h === 'string' && h ? h : null;
    };
    const job = (
      req: FastifyRequest,
      kind: JobKind,
      accountId: string,
      sellerId: string | null,
      body: unknown,
      inputs: Record<string, unknown>[],
    ) =>
      svc.createJob(
        { kind, accountId, sellerId, keyId: req.principal?.keyId ?? null, idem: idem(req) },
        { kind, body },
        inputs,
      );

    const live = (list: string[]) => svc.heldNumbers(list);

    const oneNumber = async (jobId: string, reply: import('fastify').FastifyReply, status: 200 | 201) => {
      const j = await svc.waitJob(jobId, ONE_NUMBER_WAIT_MS);
      if (j.status !== 'completed')
        return reply.status(202).send({ job_id: j.id, status: j.status, total: j.total });
      return reply.status(status).send(await svc.singleResult(jobId));
    };
    const oneAnswer = z.object({ job_id: z.uuid() }).catchall(z.unknown());
    // A configure or a release done within the wait: the job and its number.
    const oneNumberDoc = withResponseExample(oneAnswer, {
      job_id: '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f',
      e164: '+15125550142',
    });

    app.post(
      '/v1/numbers/search',
      {
        config: staff,
        schema: {
          summary: 'Search a carrier for numbers to buy',
          tags,
          body: withExample(searchIn, {
            provider_account_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
            country: 'US',
            npa: '512',
            features: ['VOICE'],
            size: 10,
          }),
          response: { 200: searchDoc },
        },
      },
      async (req) => {
        const b = req.body;
        const r = await svc.search(b.provider_account_id, searchQueryOf(b));
        return {
          count: r.count,
          numbers: r.numbers.map((n) => ({
            e164: `+${n.msisdn}`,
            country: n.country,
            type: n.type,
            features: n.features,
            ...(n.cost ? { cost: n.cost } : {}),
          })),
        };
      },
    );

    app.post(
      '/v1/numbers/provision',
      {
        config: staff,
        schema: {
          summary: 'Buy one number from an area code for a seller and route it',
          tags,
          headers: idempotencyHeaders,
          body: withExample(provisionIn, {
            provider_account_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
            seller_id: '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01',
            npa: '512',
            country: 'US',
          }),
          response: {
            201: withResponseExample(oneAnswer, {
              job_id: '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f',
              e164: '+15125550142',
              did_id: 'd4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70',
              number_id: '6e7f8091-a2b3-4c4d-9e5f-6a7b8c9d0e1f',
            }),
            202: jobAcceptedDoc,
          },
        },
      },
      async (req, reply) => {
        const b = req.body;
        await svc.account(b.provider_account_id);
        await svc.sellerToBuyFor(b.seller_id);
        const { job: j } = await job(req, 'provision', b.provider_account_id, b.seller_id, b, [
          { npa: b.npa, country: b.country },
        ]);
        return oneNumber(j.id, reply, 201);
      },
    );

    app.post(
      '/v1/numbers/provision/batch',
      {
        config: staff,
        schema: {
          summary: 'Buy numbers from a list of area codes; answers 202 with a job',
          tags,
          headers: idempotencyHeaders,
          body: withExample(provisionBatchIn, {
            provider_account_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
            seller_id: '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01',
            country: 'US',
            items: [
              { npa: '512', count: 20 },
              { npa: '737', count: 5 },
            ],
          }),
          response: { 202: jobAcceptedDoc },
        },
      },
      async (req, reply) => {
        const b = req.body;
        await svc.account(b.provider_account_id);
        await svc.sellerToBuyFor(b.seller_id);
        const inputs = b.items.flatMap((i) =>
          Array.from({ length: i.count }, () => ({ npa: i.npa, country: b.country })),
        );
        const { job: j } = await job(req, 'provision', b.provider_account_id, b.seller_id, b, inputs);
        return reply.status(202).send({ job_id: j.id, status: j.status, total: j.total });
      },
    );

    app.post(
      '/v1/numbers/:e164/configure',
      {
        config: staff,
        schema: {
          summary: "Point a number's voice routing at our SIP domain",
          tags,
          headers: idempotencyHeaders,
          params: e164Params,
          body: withExample(configureIn, { voice: { type: 'sip', value: 'sip:capconduit@sip.example.com' } }),
          response: {
            200: oneNumberDoc,
            202: jobAcceptedDoc,
          },
        },
      },
      async (req, reply) => {
        const t = await live([req.params.e164]);
        const { job: j } = await job(
          req,
          'configure',
          t.accountId,
          t.sellerId,
          { e164: req.params.e164, ...req.body },
          [{ e164: req.params.e164, ...(req.body.voice ? { voice: req.body.voice } : {}) }],
        );
        return oneNumber(j.id, reply, 200);
      },
    );

    app.post(
      '/v1/numbers/:e164/release',
      {
        config: staff,
        schema: {
          summary: 'Release a number back to the carrier',
          tags,
          headers: idempotencyHeaders,
          params: e164Params,
          response: {
            200: oneNumberDoc,
            202: jobAcceptedDoc,
          },
        },
      },
      async (req, reply) => {
        const t = await live([req.params.e164]);
        const { job: j } = await job(req, 'release', t.accountId, t.sellerId, { e164: req.params.e164 }, [
          { e164: req.params.e164 },
        ]);
        return oneNumber(j.id, reply, 200);
      },
    );

    app.post(
      '/v1/numbers/configure/batch',
      {
        config: staff,
        schema: {
          summary: 'Configure many numbers; answers 202 with a job',
          tags,
          headers: idempotencyHeaders,
          body: withExample(numbersBatchIn, {
            numbers: ['+15125550142', '+15125550143'],
            voice: { type: 'sip', value: 'sip:capconduit@sip.example.com' },
          }),
          response: { 202: jobAcceptedDoc },
        },
      },
      async (req, reply) => {
        const t = await live(req.body.numbers);
        const v = req.body.voice;
        const { job: j } = await job(
          req,
          'configure',
          t.accountId,
          t.sellerId,
          req.body,
          t.numbers.map((e164) => ({ e164, ...(v ? { voice: v } : {}) })),
        );
        return reply.status(202).send({ job_id: j.id, status: j.status, total: j.total });
      },
    );

    app.post(
      '/v1/numbers/release/batch',
      {
        config: staff,
        schema: {
          summary: 'Release many numbers; answers 202 with a job',
          tags,
          headers: idempotencyHeaders,
          body: withExample(releaseBatchIn, { numbers: ['+15125550142', '+15125550143'] }),
          response: { 202: jobAcceptedDoc },
        },
      },
      async (req, reply) => {
        const t = await live(req.body.numbers);
        const { job: j } = await job(
          req,
          'release',
          t.accountId,
          t.sellerId,
          req.body,
          t.numbers.map((e164) => ({ e164 })),
        );
        return reply.status(202).send({ job_id: j.id, status: j.status, total: j.total });
      },
    );

    app.get(
      '/v1/numbers',
      {
        config: { auth: { roles: STAFF_OR_SELLER } },
        schema: {
          summary: 'Numbers we hold at carriers, paged',
          tags,
          querystring: pageQuery.extend({
            seller_id: z.uuid().optional(),
            status: z.enum(['owned', 'released']).optional(),
          }),
          response: { 200: page(ownedNumberDoc) },
        },
      },
      async (req) => {
        const scope = scopeOf(req);
        const q = req.query;
        const r = await svc.repo.listNumbers({ sellerId: scope ?? q.seller_id, status: q.status }, q);
        return { items: r.items.map(numberView), limit: q.limit, offset: q.offset, total: r.total };
      },
    );

    app.get(
      '/v1/jobs/:id',
      {
        config: { auth: { roles: STAFF_OR_SELLER } },
        schema: {
          summary: "A provisioning job's progress and each item's result",
          tags,
          params: idParams,
          querystring: z.object({ items: z.enum(['true', 'false']).default('true') }),
          response: { 200: jobDoc },
        },
      },
      async (req) => svc.jobView(req.params.id, scopeOf(req), req.query.items === 'true'),
    );
  };
}
