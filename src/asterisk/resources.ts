// Typed ARI resources over one request function (ids chosen by the caller, recorded before the
// request, so a request whose answer is lost can still be found and cleaned up).
import type { AriRequest } from './request.ts';
import type { AriBridge, AriChannel } from './types.ts';

export type HangupReason =
  | 'normal'
  | 'busy'
  | 'congestion'
  | 'no_answer'
  | 'timeout'
  | 'rejected'
  | 'unallocated'
  | 'answered_elsewhere';

const enc = encodeURIComponent;

export function channelsResource(request: AriRequest) {
  return {
    list: () => request<AriChannel[]>('GET', '/channels'),
    get: (id: string) => request<AriChannel>('GET', `/channels/${enc(id)}`),
    create: (p: {
      endpoint: string;
      app: string;
      channelId: string;
      appArgs?: string;
      otherChannelId?: string;
      originator?: string;
      variables?: Record<string, string>;
    }) =>
      request<AriChannel>('POST', '/channels/create', {
        query: {
          endpoint: p.endpoint,
          app: p.app,
          channelId: p.channelId,
          appArgs: p.appArgs,
          otherChannelId: p.otherChannelId,
          originator: p.originator,
        },
        body: p.variables ? { variables: p.variables } : undefined,
      }),
    originate: (p: {
      endpoint: string;
      channelId: string;
      app?: string;
      appArgs?: string;
      extension?: string;
      context?: string;
      priority?: number;
      callerId?: string;
      timeout?: number;
      variables?: Record<string, string>;
    }) => {
      const { variables, ...q } = p;
      return request<AriChannel>('POST', '/channels', {
        query: q,
        body: variables ? { variables } : undefined,
      });
    },
    dial: (id: string, p: { caller?: string; timeout?: number } = {}) =>
      request<void>('POST', `/channels/${enc(id)}/dial`, { query: p }),
    answer: (id: string) => request<void>('POST', `/channels/${enc(id)}/answer`),
    ring: (id: string) => request<void>('POST', `/channels/${enc(id)}/ring`),
    ringStop: (id: string) => request<void>('DELETE', `/channels/${enc(id)}/ring`),
    /** Plays media in order (`sound:...`, `recording:...`) under our own playback id. */
    play: (id: string, playbackId: string, media: string[]) =>
      request<unknown>('POST', `/channels/${enc(id)}/play/${enc(playbackId)}`, {
        query: { media: media.join(',') },
      }),
    startMoh: (id: string, mohClass?: string) =>
      request<void>('POST', `/channels/${enc(id)}/moh`, { query: { mohClass } }),
    stopMoh: (id: string) => request<void>('DELETE', `/channels/${enc(id)}/moh`),
    hangup: (id: string, reason: HangupReason = 'normal') =>
      request<void>('DELETE', `/channels/${enc(id)}`, { query: { reason } }),
    continueInDialplan: (id: string, p: { context?: string; extension?: string; priority?: number } = {}) =>
      request<void>('POST', `/channels/${enc(id)}/continue`, { query: p }),
    move: (id: string, app: string, appArgs?: string) =>
      request<void>('POST', `/channels/${enc(id)}/move`, { query: { app, appArgs } }),
    getVariable: async (id: string, variable: string) =>
      (await request<{ value: string }>('GET', `/channels/${enc(id)}/variable`, { query: { variable } }))
        .value,
    setVariable: (id: string, variable: string, value: string) =>
      request<void>('POST', `/channels/${enc(id)}/variable`, { query: { variable, value } }),
  };
}

export function bridgesResource(request: AriRequest) {
  return {
    create: (p: { bridgeId: string; type?: string; name?: string }) =>
      request<AriBridge>('POST', '/bridges', {
        query: { bridgeId: p.bridgeId, type: p.type ?? 'mixing', name: p.name },
      }),
    get: (id: string) => request<AriBridge>('GET', `/bridges/${enc(id)}`),
    addChannel: (id: string, channel: string | string[]) =>
      request<void>('POST', `/bridges/${enc(id)}/addChannel`, {
        query: { channel: [channel].flat().join(',') },
      }),
    removeChannel: (id: string, channel: string) =>
      request<void>('POST', `/bridges/${enc(id)}/removeChannel`, { query: { channel } }),
    destroy: (id: string) => request<void>('DELETE', `/bridges/${enc(id)}`),
    /** Records the bridge's mix under `name` (a LiveRecording; RecordingFinished when it ends). */
    record: (
      id: string,
      p: {
        name: string;
        format: string;
        ifExists?: 'fail' | 'overwrite' | 'append';
        maxDurationSeconds?: number;
      },
    ) => request<unknown>('POST', `/bridges/${enc(id)}/record`, { query: p }),
  };
}

export function recordingsResource(request: AriRequest) {
  return {
    deleteStored: (name: string) => request<void>('DELETE', `/recordings/stored/${enc(name)}`),
    /** A recording in progress (404 when none goes by that name). */
    getLive: (name: string) =>
      request<{ name: string; state: string; duration?: number }>('GET', `/recordings/live/${enc(name)}`),
  };
}

export function eventsResource(request: AriRequest) {
  return {
    /** StasisBroadcast: claim an offered call for one of our apps; 409 means another app won. */
    claim: (channelId: string, application: string) =>
      request<void>('POST', '/events/claim', { query: { channelId, application } }),
  };
}

export function asteriskResource(request: AriRequest) {
  return {
    info: () => request<Record<string, unknown>>('GET', '/asterisk/info'),
  };
}

export function applicationsResource(request: AriRequest) {
  return {
    /**
     * Sets an app's event filter (disallowed types only: an allowed list would also hide types this
     * code does not know of).
     */
    setDisallowedEvents: (app: string, types: string[]) =>
      request<unknown>('PUT', `/applications/${enc(app)}/eventFilter`, {
        body: { allowed: [], disallowed: types.map((type) => ({ type })) },
      }),
    /**
     * Subscribes an app to an event source (`channel:<id>`, ...): it hears that source's events
     * whether or not the channel is in the app (a caller sent on to the dialplan, its hangup).
     */
    subscribe: (app: string, eventSource: string) =>
      request<unknown>('POST', `/applications/${enc(app)}/subscription`, { query: { eventSource } }),
  };
}
