// /events: the claim of a StasisBroadcast offer (the WebSocket itself is served by server.ts).
import { eventsOps } from './operations.ts';
import { bind, err } from './spec.ts';
import type { AriState } from './state.ts';

export const eventRoutes = bind<AriState, typeof eventsOps>(eventsOps, {
  // The WebSocket is taken over by server.ts on an Upgrade; a plain GET is refused as
  // res_http_websocket refuses it.
  eventWebsocket: () => ({ status: 426 }),
  userEvent: (a, s) => {
    const application = a.application as string | undefined;
    if (!application) return err(400, 'Missing parameter application');
    if (!s.apps.has(application)) return err(404, 'Application not found');
    const variables = (a.body?.variables ?? {}) as Record<string, unknown>;
    s.model.event(application, 'ChannelUserevent', { eventname: a.eventName, userevent: variables });
    return { status: 204 };
  },
  claimChannel: (a, s) => {
    const channelId = a.channelId as string | undefined;
    const application = a.application as string | undefined;
    if (!channelId || !application) return err(400, 'channelId and application are required');
    const b = s.broadcasts.get(channelId);
    if (!b) return err(404, 'No broadcast for this channel');
    // First claim wins; later (or late) claims are told 409, never 404.
    if (b.winner || b.expired) return err(409, 'Channel already claimed');
    if (!s.apps.has(application)) return err(422, `Application ${application} not registered`);
    b.winner = application;
    b.resolve(application);
    return { status: 204 };
  },
});
