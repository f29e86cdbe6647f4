// /events: user events, and the claim of a StasisBroadcast offer (the WebSocket itself is served
// by server.ts). Statuses and messages are resource_events.c's and res_stasis_broadcast.c's.
import { eventsOps } from './operations.ts';
import { bind, err } from './spec.ts';
import type { AriState } from './state.ts';

export const eventRoutes = bind<AriState, typeof eventsOps>(eventsOps, {
  // The WebSocket is taken over by server.ts on an Upgrade; a plain GET is refused as
  // res_http_websocket refuses it.
  eventWebsocket: () => ({ status: 426 }),
  // stasis_app_user_event: the app (registered or kept), then each source's snapshot in turn.
  userEvent: async (a, s) => {
    const application = a.application as string | undefined;
    if (!application) return err(400, 'Missing parameter application');
    if (!s.known(application)) return err(404, 'Application not found');
    const objects: Record<string, unknown> = {};
    for (const src of (a.source as string[] | undefined) ?? []) {
      const i = src.indexOf(':');
      const scheme = src.slice(0, i);
      const id = src.slice(i + 1);
      if (scheme === 'channel') {
        const c = s.model.channels.get(id);
        if (!c) return err(422, 'Event source was not found');
        objects.channel = s.model.json(c);
      } else if (scheme === 'bridge') {
        if (!s.model.bridges.has(id)) return err(422, 'Event source was not found');
        objects.bridge = s.model.bridgeJson(id);
      } else if (scheme === 'endpoint') {
        const [tech = '', resource = ''] = id.split(/\/(.*)/s);
        const e = await s.endpointJson(tech, resource);
        if (!e) return err(422, 'Event source was not found');
        objects.endpoint = e;
      } else return err(400, 'Invalid event source URI scheme');
    }
    const variables = a.body?.variables;
    const userevent = {
      ...(variables && typeof variables === 'object' ? (variables as Record<string, unknown>) : {}),
      eventname: a.eventName,
    };
    s.model.event(application, 'ChannelUserevent', { eventname: a.eventName, userevent, ...objects });
    return { status: 204 };
  },
  claimChannel: (a, s) => {
    const channelId = a.channelId as string | undefined;
    const application = a.application as string | undefined;
    if (!channelId) return err(400, 'channelId parameter is required');
    if (!application) return err(400, 'application parameter is required');
    const b = s.broadcasts.get(channelId);
    // Claimed is checked before finished: a late claim of a claimed channel is 409, of one whose
    // offer ran out with no claim 404.
    if (b?.winner) return err(409, 'Channel has already been claimed by another application');
    if (!b || b.expired) return err(404, 'Channel not found or not in broadcast state');
    b.winner = application;
    b.resolve(application);
    return { status: 204 };
  },
});
