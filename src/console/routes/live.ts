// The live floor page and its server-sent event stream. The page is a frame the script fills from
// the stream; the stream sends one JSON frame a second (see live.ts) and ends when the session does.
import type { FastifyInstance } from 'fastify';
import { scopeOf } from '../access.ts';
import { isPgUnavailable } from '../../platform/pg-errors.ts';
import { isRedisUnavailable } from '../../platform/redis/client.ts';
import { html } from '../html.ts';
import type { LiveHub } from '../live.ts';
import { layout } from '../pages/layout.ts';
import { SESSION_COOKIE, sendPage, sessionOf, userOf } from '../plugin.ts';
import type { ConsoleServices } from '../services.ts';
import { ctxOf } from './users.ts';

/** The five caps' column heads, as the links table has them. */
const CAP_HEADS = html`<th>Live</th><th>Hour</th><th>Day</th><th>Month</th><th>Total</th>`;

/** How often an open stream re-checks its session (signed out elsewhere, expired) and sends a ping. */
const RECHECK_MS = 15_000;

export function liveRoutes(s: ConsoleServices, hub: LiveHub) {
  return async function routes(app: FastifyInstance) {
    app.get('/live', async (req, reply) => {
      const ctx = ctxOf(req);
      const body = html`<div id="live" data-stream="/console/live/events">
<p class="status" id="live-status" role="status">Connecting…</p>
<section class="charts">
  <figure><figcaption>Calls per second <span id="rate-now"></span> <span class="peak" id="rate-peak"></span></figcaption><svg id="chart-rate" viewBox="0 0 300 60" preserveAspectRatio="none" role="img" aria-label="calls per second, last 5 minutes"><path d=""/></svg></figure>
  <figure><figcaption>Answer rate <span id="answer-now"></span></figcaption><svg id="chart-answer" viewBox="0 0 300 60" preserveAspectRatio="none" role="img" aria-label="answer rate, last 5 minutes"><path d=""/></svg></figure>
</section>
<section><h2>Calls in progress <span class="count" id="calls-count"></span></h2>
<div class="scroll"><table id="calls"><thead><tr><th>Started</th><th>DID</th><th>Caller</th><th>Phase</th><th>Client</th><th>Seller</th><th>Node</th></tr></thead><tbody></tbody></table></div>
<p class="empty" id="calls-empty" hidden>No calls in progress.</p></section>
<section><h2>Links against their caps</h2>
<div class="scroll"><table id="links"><thead><tr><th>Campaign</th><th>Client</th><th>Prio / weight</th><th>Live</th><th>Hour</th><th>Day</th><th>Month</th><th>Total</th></tr></thead><tbody></tbody></table></div>
<p class="empty" id="links-empty" hidden>No links yet.</p></section>
<section><h2>Sellers against their caps</h2>
<div class="scroll"><table id="sellers"><thead><tr><th>Seller</th>${CAP_HEADS}</tr></thead><tbody></tbody></table></div>
<p class="empty" id="sellers-empty" hidden>No seller has caps of its own.</p></section>
<section><h2>DIDs against their caps</h2>
<div class="scroll"><table id="dids"><thead><tr><th>DID</th><th>Seller</th>${CAP_HEADS}</tr></thead><tbody></tbody></table></div>
<p class="empty" id="dids-empty" hidden>No DID has caps of its own.</p></section>
${
  scopeOf(ctx.user)
    ? ''
    : html`<section><h2>Buyer groups against their caps</h2>
<div class="scroll"><table id="groups"><thead><tr><th>Group</th><th>Counted in</th>${CAP_HEADS}</tr></thead><tbody></tbody></table></div>
<p class="empty" id="groups-empty" hidden>No buyer group has caps.</p></section>`
}
<section><h2>Asterisk nodes</h2>
<div class="scroll"><table id="nodes"><thead><tr><th>Node</th><th>Instance</th><th>ARI</th><th>AMI</th><th>Last event</th></tr></thead><tbody></tbody></table></div>
<p class="empty" id="nodes-empty" hidden>No Asterisk node is connected to any instance.</p></section>
</div>`;
      return sendPage(reply, layout(ctx, 'Live floor', body));
    });

    app.get('/live/events', async (req, reply) => {
      const user = userOf(req);
      const token = req.cookies[SESSION_COOKIE] ?? '';
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      res.write('retry: 3000\n\n');
      let ended = false;
      let remove: (() => void) | null = null;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(recheck);
        remove?.();
        res.end();
      };
      const recheck = setInterval(async () => {
        // Redis not answering is not a session that ended: the stream stays (the hub says meanwhile
        // that the floor cannot be updated) and the next check, once it is back, decides. The user is
        // read again too: one disabled without its sessions being ended (its seller archived) stops.
        const alive =
          (await s.sessions.get(token).then(
            (x) => x !== null,
            (err: unknown) => isRedisUnavailable(err),
          )) &&
          (await s.users.get(user.id).then(
            (x) => x !== null,
            (err: unknown) => isPgUnavailable(err),
          ));
        if (!alive) end();
        else res.write(': ping\n\n');
      }, RECHECK_MS);
      recheck.unref();
      req.raw.on('close', end);
      remove = await hub.add({
        scope: scopeOf(user),
        session: sessionOf(req).id,
        send: (data) => {
          if (!ended) res.write(data);
        },
        end,
      });
      if (ended) remove();
    });
  };
}
