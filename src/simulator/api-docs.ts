// Swagger 1.2 documents under /ari/api-docs, in the shape Asterisk serves them, so that clients which
// build themselves from the docs (ari-client 2.2.0) work against the simulator unchanged. Only the
// operations the simulator implements are listed; the other resources are present but empty.
type Param = [
  name: string,
  paramType: 'path' | 'query' | 'body',
  dataType: string,
  required?: boolean,
  allowMultiple?: boolean,
];
type Op = [path: string, httpMethod: string, nickname: string, responseClass: string, params: Param[]];

const chan: Param = ['channelId', 'path', 'string', true];
const bridge: Param = ['bridgeId', 'path', 'string', true];

const RESOURCES: Record<string, Op[]> = {
  asterisk: [
    ['/asterisk/info', 'GET', 'getInfo', 'AsteriskInfo', [['only', 'query', 'string', false, true]]],
  ],
  endpoints: [],
  channels: [
    ['/channels', 'GET', 'list', 'List[Channel]', []],
    [
      '/channels',
      'POST',
      'originate',
      'Channel',
      [
        ['endpoint', 'query', 'string', true],
        ['extension', 'query', 'string'],
        ['context', 'query', 'string'],
        ['priority', 'query', 'long'],
        ['app', 'query', 'string'],
        ['appArgs', 'query', 'string'],
        ['callerId', 'query', 'string'],
        ['timeout', 'query', 'int'],
        ['channelId', 'query', 'string'],
        ['variables', 'body', 'containers'],
      ],
    ],
    [
      '/channels/create',
      'POST',
      'create',
      'Channel',
      [
        ['endpoint', 'query', 'string', true],
        ['app', 'query', 'string', true],
        ['appArgs', 'query', 'string'],
        ['channelId', 'query', 'string'],
        ['otherChannelId', 'query', 'string'],
        ['variables', 'body', 'containers'],
      ],
    ],
    ['/channels/{channelId}', 'GET', 'get', 'Channel', [chan]],
    [
      '/channels/{channelId}',
      'DELETE',
      'hangup',
      'void',
      [chan, ['reason', 'query', 'string'], ['reason_code', 'query', 'string']],
    ],
    ['/channels/{channelId}/answer', 'POST', 'answer', 'void', [chan]],
    ['/channels/{channelId}/ring', 'POST', 'ring', 'void', [chan]],
    [
      '/channels/{channelId}/dial',
      'POST',
      'dial',
      'void',
      [chan, ['caller', 'query', 'string'], ['timeout', 'query', 'int']],
    ],
    [
      '/channels/{channelId}/continue',
      'POST',
      'continueInDialplan',
      'void',
      [chan, ['context', 'query', 'string'], ['extension', 'query', 'string'], ['priority', 'query', 'int']],
    ],
    [
      '/channels/{channelId}/move',
      'POST',
      'move',
      'void',
      [chan, ['app', 'query', 'string', true], ['appArgs', 'query', 'string']],
    ],
    [
      '/channels/{channelId}/variable',
      'GET',
      'getChannelVar',
      'Variable',
      [chan, ['variable', 'query', 'string', true]],
    ],
    [
      '/channels/{channelId}/variable',
      'POST',
      'setChannelVar',
      'void',
      [chan, ['variable', 'query', 'string', true], ['value', 'query', 'string']],
    ],
  ],
  bridges: [
    ['/bridges', 'GET', 'list', 'List[Bridge]', []],
    [
      '/bridges',
      'POST',
      'create',
      'Bridge',
      [
        ['type', 'query', 'string'],
        ['bridgeId', 'query', 'string'],
        ['name', 'query', 'string'],
      ],
    ],
    ['/bridges/{bridgeId}', 'GET', 'get', 'Bridge', [bridge]],
    ['/bridges/{bridgeId}', 'DELETE', 'destroy', 'void', [bridge]],
    [
      '/bridges/{bridgeId}/addChannel',
      'POST',
      'addChannel',
      'void',
      [bridge, ['channel', 'query', 'string', true, true]],
    ],
    [
      '/bridges/{bridgeId}/removeChannel',
      'POST',
      'removeChannel',
      'void',
      [bridge, ['channel', 'query', 'string', true, true]],
    ],
  ],
  recordings: [],
  sounds: [],
  playbacks: [],
  deviceStates: [],
  mailboxes: [],
  events: [
    [
      '/events',
      'GET',
      'eventWebsocket',
      'Message',
      [
        ['app', 'query', 'string', true, true],
        ['subscribeAll', 'query', 'boolean'],
      ],
    ],
    [
      '/events/claim',
      'POST',
      'claim',
      'void',
      [
        ['channelId', 'query', 'string', true],
        ['application', 'query', 'string', true],
      ],
    ],
  ],
  applications: [
    ['/applications', 'GET', 'list', 'List[Application]', []],
    [
      '/applications/{applicationName}',
      'GET',
      'get',
      'Application',
      [['applicationName', 'path', 'string', true]],
    ],
    [
      '/applications/{applicationName}/eventFilter',
      'PUT',
      'filter',
      'Application',
      [
        ['applicationName', 'path', 'string', true],
        ['filter', 'body', 'object'],
      ],
    ],
  ],
};

// Event models: ari-client turns properties typed Channel/Bridge into objects with methods.
const base = {
  type: { type: 'string', required: true },
  application: { type: 'string', required: true },
  timestamp: { type: 'Date' },
};
const ch = { channel: { type: 'Channel', required: true } };
const br = { bridge: { type: 'Bridge', required: true } };
const EVENT_MODELS: Record<string, Record<string, { type: string; required?: boolean }>> = {
  StasisStart: {
    ...ch,
    args: { type: 'List[string]', required: true },
    replace_channel: { type: 'Channel' },
  },
  StasisEnd: ch,
  ChannelStateChange: ch,
  ChannelCreated: ch,
  ChannelDestroyed: {
    ...ch,
    cause: { type: 'int', required: true },
    cause_txt: { type: 'string', required: true },
  },
  ChannelHangupRequest: { ...ch, cause: { type: 'int' }, soft: { type: 'boolean' } },
  ChannelVarset: {
    channel: { type: 'Channel' },
    variable: { type: 'string', required: true },
    value: { type: 'string', required: true },
  },
  Dial: {
    peer: { type: 'Channel', required: true },
    caller: { type: 'Channel' },
    dialstatus: { type: 'string', required: true },
    dialstring: { type: 'string' },
  },
  ChannelEnteredBridge: { ...br, ...ch },
  ChannelLeftBridge: { ...br, ...ch },
  ApplicationReplaced: {},
  CallBroadcast: { ...ch, caller: { type: 'string' }, called: { type: 'string' } },
};

export function resourceListing(host: string) {
  return {
    apiVersion: '2.0.0',
    swaggerVersion: '1.2',
    basePath: `http://${host}/ari`,
    apis: Object.keys(RESOURCES).map((r) => ({ path: `/api-docs/${r}.{format}`, description: r })),
  };
}

export function resourceDoc(name: string, host: string) {
  const ops = RESOURCES[name];
  if (!ops) return null;
  const byPath = new Map<string, Op[]>();
  for (const op of ops) byPath.set(op[0], [...(byPath.get(op[0]) ?? []), op]);
  const doc: Record<string, unknown> = {
    apiVersion: '2.0.0',
    swaggerVersion: '1.2',
    basePath: `http://${host}/ari`,
    resourcePath: `/api-docs/${name}.{format}`,
    apis: [...byPath].map(([path, list]) => ({
      path,
      operations: list.map(([, httpMethod, nickname, responseClass, params]) => ({
        httpMethod,
        nickname,
        responseClass,
        summary: nickname,
        parameters: params.map(([pname, paramType, dataType, required = false, allowMultiple = false]) => ({
          name: pname,
          paramType,
          dataType,
          required,
          allowMultiple,
        })),
      })),
    })),
    models: {},
  };
  if (name === 'events')
    doc.models = Object.fromEntries(
      Object.entries(EVENT_MODELS).map(([id, props]) => [id, { id, properties: { ...base, ...props } }]),
    );
  return doc;
}
