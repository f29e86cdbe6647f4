// A call's page: its record (names, times, outcome, the attempts and the links not offered it, the
// money its viewer may see) and its recording in a player. The recording is the API's stream
// (src/cdr/recording.ts) under the console's session: the same scope (a seller user hears its own
// seller's calls only; another's is 404, as for a seller key), byte ranges for seeking, and what
// retention deleted said as such.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AsteriskModule } from '../../asterisk/index.ts';
import type { CallRecordView } from '../../cdr/repository.ts';
import { sendRecording } from '../../cdr/recording.ts';
import type { CallsService } from '../../cdr/service.ts';
import { notFound } from '../../platform/http/errors.ts';
import type { RoutingService } from '../../routing/service.ts';
import { EVERYONE, scopeOf } from '../access.ts';
import { type Html, html } from '../html.ts';
import { layout } from '../pages/layout.ts';
import { microsText } from '../pages/routing-fields.ts';
import { sendPage, userOf } from '../plugin.ts';
import { at, clientChoices, reasonText } from './calls.ts';
import { ctxOf } from './users.ts';

const params = z.object({ id: z.string().min(1).max(200) });
const money = (m: number | null) => (m === null ? '' : microsText(m));

/** The recording's part of the page: a player, or why there is none. */
function recordingPart(c: CallRecordView, keepDays: number): Html {
  if (!c.recordingName)
    return html`<p class="empty" id="recording-none">Not recorded: the campaign did not record calls then, or no client answered.</p>`;
  if (c.recordingDeletedAt)
    return html`<p class="empty" id="recording-deleted">Deleted by retention on ${at(c.recordingDeletedAt)} UTC${
      keepDays > 0 ? ` (recordings are kept ${keepDays} days)` : ''
    }: the call's record stays, its audio is gone.</p>`;
  const src = `/console/calls/${encodeURIComponent(c.callId)}/recording`;
  return html`<audio controls preload="metadata" src="${src}" id="recording-player"></audio>
<p><a href="${src}" download>Download</a> <small>(WAV${c.recordingS !== null ? `, ${c.recordingS} s` : ''})</small></p>`;
}

export function callDetailRoutes(
  calls: CallsService,
  routing: RoutingService,
  asterisk: () => AsteriskModule | undefined,
  recordingDays: number,
) {
  return async function routes(app: FastifyInstance) {
    const cfg = { console: { roles: EVERYONE } };

    app.get('/calls/:id', { config: cfg }, async (req, reply) => {
      const { id } = params.parse(req.params);
      const scope = scopeOf(userOf(req));
      const c = await calls.one(id, scope);
      if (!c) throw notFound('call', id);
      const [camps, clientList] = await Promise.all([
        scope ? routing.listCampaigns({ limit: 500, offset: 0, sellerId: scope }) : { items: [] },
        routing.listClients({ limit: 500, offset: 0 }),
      ]);
      const names = new Map(await clientChoices(routing, scope, camps.items, clientList.items));
      const client = (cid: string) => names.get(cid) ?? cid;
      const staff = !scope;
      const row = (label: string, v: Html | string | number | null) =>
        v === null || v === '' ? '' : html`<dt>${label}</dt><dd>${v}</dd>`;
      const body = html`<p><a href="/console/calls">← Calls</a></p>
<dl class="secret" id="call-record">
${row('Call id', html`<code>${c.callId}</code>`)}
${row('Started (UTC)', at(c.startedAt))}${row('Answered (UTC)', at(c.answeredAt))}${row('Ended (UTC)', at(c.endedAt))}
${row('DID', c.did)}${row('Caller', c.callerNumber)}
${staff ? row('Seller', c.sellerName) : ''}${row('Campaign', c.campaignName)}${row('Client', c.clientName)}
${row('Disposition', html`<span class="disp disp-${c.disposition}">${c.disposition}</span>${c.hangupCause !== null ? html` <small>cause ${c.hangupCause}</small>` : ''}`)}
${row('Ended by', c.endReason)}${row('Default route', c.defaultRoute)}${row('Handed off (UTC)', at(c.handedOffAt))}
${row('Duration (s)', c.durationS)}${row('Talk (s)', c.talkS)}${row('Billable (s)', c.billableS)}
${row('Converted', c.converted ? 'yes' : 'no')}${row('Payout', money(c.payoutMicros))}
${staff ? html`${row('Revenue', money(c.revenueMicros))}${row('Carrier cost', money(c.costMicros))}${row('DID rent share', money(Math.round(c.rentMicros)))}${row('Margin', money(c.revenueMicros - c.payoutMicros - c.costMicros - Math.round(c.rentMicros)))}` : ''}
${row('Asterisk node', c.nodeId)}
</dl>
<h2>Recording</h2>
${recordingPart(c, recordingDays)}
<h2>Attempts</h2>
${
  c.attempts.length
    ? html`<ol id="call-attempts">${c.attempts.map(
        (a) =>
          html`<li>${client(a.client_id)}: ${a.result}, rang ${Math.round(a.ring_ms / 100) / 10} s${a.answered_at ? html`, answered ${at(new Date(a.answered_at))} UTC` : ''}</li>`,
      )}</ol>`
    : html`<p class="empty">No client was tried.</p>`
}
${
  c.notRouted.length
    ? html`<h2>Links not offered the call</h2><ul id="call-not-routed">${c.notRouted.map((n) => html`<li>${client(n.client_id)}: <strong>${reasonText(n.reason)}</strong></li>`)}</ul>`
    : ''
}`;
      return sendPage(reply, layout(ctxOf(req), `Call ${at(c.startedAt)}`, body));
    });

    app.get('/calls/:id/recording', { config: cfg }, async (req, reply) => {
      const { id } = params.parse(req.params);
      const c = await calls.get(id, scopeOf(userOf(req)));
      if (!c) throw notFound('call', id);
      return sendRecording(req, reply, c, asterisk());
    });
  };
}
