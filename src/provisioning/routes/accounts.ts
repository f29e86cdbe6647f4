// Carrier accounts (/v1/provider-accounts, admin) and the groups' routing defaults
// (/v1/provisioning/groups/{seller_id}). Credentials go in, never out.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { idParams, orderFrom, page, pageBody } from '../../platform/http/paging.ts';
import {
  accountIn,
  accountPatch,
  accountsQuery,
  accountView,
  groupIn,
  groupView,
  reconcileIn,
} from '../schemas.ts';
import { accountDoc, groupDoc, reconcileDoc } from '../examples.ts';
import type { ProvisioningService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function accountRoutes(svc: ProvisioningService) {
  return async function accounts(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const admin = { auth: { roles: ['admin'] as const } };
    const staff = { auth: { roles: STAFF } };
    const tags = ['provisioning'];
    app.post(
      '/v1/provider-accounts',
      {
        config: admin,
        schema: {
          summary: 'Add a carrier account; its credentials are encrypted and never returned',
          tags,
          body: withExample(accountIn, {
            name: 'Vonage main',
            provider: 'vonage',
            api_key: 'abcd1234',
            api_secret: 'your-api-secret',
            rate_per_s: 1,
            use_subaccounts: true,
          }),
          response: { 201: accountDoc },
        },
      },
      async (req, reply) => reply.status(201).send(accountView(await svc.createAccount(req.body, req.actor))),
    );
    app.get(
      '/v1/provider-accounts',
      {
        config: staff,
        schema: {
          summary: 'List carrier accounts (never their credentials), paged, filtered and sorted',
          tags,
          querystring: accountsQuery,
          response: { 200: page(accountDoc) },
        },
      },
      async (req) =>
        pageBody(
          req.query,
          await svc.repo.listAccounts({ ...req.query, order: orderFrom(req.query) }),
          accountView,
        ),
    );
    app.get(
      '/v1/provider-accounts/:id',
      {
        config: staff,
        schema: { summary: 'One carrier account', tags, params: idParams, response: { 200: accountDoc } },
      },
      async (req) => accountView(await svc.account(req.params.id)),
    );
    app.patch(
      '/v1/provider-accounts/:id',
      {
        config: admin,
        schema: {
          summary: "Change a carrier account's name, limits or credentials",
          tags,
          params: idParams,
          body: withExample(accountPatch, { rate_per_s: 2, concurrency: 4 }),
          response: { 200: accountDoc },
        },
      },
      async (req) => accountView(await svc.updateAccount(req.params.id, req.body, req.actor)),
    );
    app.delete(
      '/v1/provider-accounts/:id',
      {
        config: admin,
        schema: { summary: 'Delete a carrier account', tags, params: idParams, response: { 204: z.null() } },
      },
      async (req, reply) => {
        await svc.deleteAccount(req.params.id, req.actor);
        return reply.status(204).send(null);
      },
    );
    app.post(
      '/v1/provisioning/reconcile',
      {
        config: staff,
        schema: {
          summary: "Compare the carrier's numbers with ours and report drift",
          tags,
          body: withExample(reconcileIn, {
            provider_account_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
            fix: false,
          }),
          response: { 200: reconcileDoc },
        },
      },
      async (req) => svc.reconcile(req.body.provider_account_id, req.body.fix),
    );
    app.put(
      '/v1/provisioning/groups/:seller_id',
      {
        config: staff,
        schema: {
          summary: "Set a seller's number group: carrier account, subaccount and SIP target",
          tags,
          params: z.object({ seller_id: z.uuid() }),
          body: withExample(groupIn, {
            provider_account_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
            sip_domain: 'acme-leads',
          }),
          response: { 200: groupDoc },
        },
      },
      async (req) => groupView(await svc.setGroup(req.params.seller_id, req.body)),
    );
  };
}
