// The action table: each AMI action the simulator answers, by its lower-cased name. An action not
// in the table answers as Asterisk answers an unknown one.
import type { SimChannel } from '../model.ts';
import { endpointDetail, endpointListItem } from '../pjsip/ami.ts';
import { error, SESSION_ACTIONS } from './auth.ts';
import { listCommands } from './commands.ts';
import { originate, redirect } from './originate.ts';
import { mixMonitor, mixMonitorMute, stopMixMonitor } from './mixmonitor.ts';
import { queueStatus, queueSummary } from './queues.ts';
import { extensionState, extensionStateList } from './extension-state.ts';
import { type Fields, packet, snapshot } from './protocol.ts';
import { readFunction, retrieveVariable } from '../functions.ts';
import { type Action, type AmiCore, byName } from './session.ts';
import { atxfer, blindTransfer } from './transfer.ts';
import { getvar, setvar } from './variables.ts';

/** The few CLI commands operators run over AMI `Command`. */
function cli(core: AmiCore, cmd: string): string[] {
  const c = cmd.trim().toLowerCase();
  if (c === 'core show version')
    return [
      `Asterisk 22.10.1 built by capconduit @ simulator on a ${process.arch} running ${process.platform}`,
    ];
  if (c === 'core show uptime')
    return [`System uptime: ${Math.round((Date.now() - core.started.getTime()) / 1000)} seconds`];
  if (c === 'core show channels count' || c === 'core show channels')
    return [`${core.model.channels.size} active channels`, `${core.model.channels.size} active calls`];
  if (c.startsWith('pjsip reload') || c === 'module reload res_pjsip.so') {
    core.reloaded = new Date();
    return ["Module 'res_pjsip.so' reloaded successfully."];
  }
  return [`No such command '${cmd}' (type 'core show help ${cmd}' for other possible commands)`];
}

const duration = (c: SimChannel) => {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(c.creationtime.replace('+0000', 'Z'))) / 1000));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
};

const coreShowChannels: Action = (ctx) => {
  // An internal channel (a bridge's announcer or recorder) has no AMI channel state: not listed.
  const chans = [...ctx.core.model.channels.values()].filter((c) => !c.media);
  ctx.reply([
    ['Response', 'Success'],
    ['EventList', 'start'],
    ['Message', 'Channels will follow'],
  ]);
  for (const c of chans)
    ctx.listEvent([
      ['Event', 'CoreShowChannel'],
      ...snapshot(c),
      ['Application', c.dialplan.app_name],
      ['ApplicationData', c.dialplan.app_data],
      ['Duration', duration(c)],
      ['BridgeId', c.bridge ?? ''],
    ]);
  ctx.listEvent([
    ['Event', 'CoreShowChannelsComplete'],
    ['EventList', 'Complete'],
    ['ListItems', chans.length],
  ]);
};

/**
 * Hangup: by name or uniqueid (or /regex/), with an optional Q.850 cause (none: 0). manager.c
 * raises the channel's soft-hangup flag without publishing a request (ast_softhangup_nolock), so
 * neither AMI nor ARI hears a HangupRequest for it; a channel with a PBX thread still gets that
 * thread's own SoftHangupRequest (16) as it ends. The answer comes first: the events reach the
 * session later, through Stasis.
 */
const hangup: Action = (ctx) => {
  const name = ctx.f.channel ?? '';
  if (!name) return error(ctx, 'No channel specified');
  const n = Number.parseInt(ctx.f.cause ?? '', 10);
  const cause = Number.isInteger(n) && n >= 0 && n <= 127 ? n : 0;
  const m = ctx.core.model;
  // A cause of 0 leaves the channel's own (ast_channel_softhangup_withcause_locked).
  const hangUp = (c: SimChannel) => m.hangup(c.id, cause > 0 ? cause : (c.hangupCause ?? 0), false, false);
  if (name.startsWith('/')) {
    const re = new RegExp(name.replace(/^\/|\/$/g, ''));
    const hit = [...m.channels.values()].filter((c) => re.test(c.name));
    ctx.reply([
      ['Response', 'Success'],
      ['EventList', 'start'],
      ['Message', 'Channels hung up will follow'],
    ]);
    for (const c of hit)
      ctx.listEvent([
        ['Event', 'ChannelHungup'],
        ['Channel', c.name],
      ]);
    ctx.listEvent([
      ['Event', 'ChannelsHungupListComplete'],
      ['EventList', 'Complete'],
      ['ListItems', hit.length],
    ]);
    for (const c of hit) hangUp(c);
    return;
  }
  const c = byName(ctx, name);
  if (!c) return error(ctx, 'No such channel');
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Channel Hungup'],
  ]);
  hangUp(c);
};

/** Status: one Status event per channel (or the one named), then StatusComplete. */
const status: Action = (ctx) => {
  const m = ctx.core.model;
  let chans = [...m.channels.values()];
  if (ctx.f.channel) {
    const c = byName(ctx, ctx.f.channel);
    if (!c) return error(ctx, 'No such channel');
    chans = [c];
  }
  ctx.reply([
    ['Response', 'Success'],
    ['EventList', 'start'],
    ['Message', 'Channel status will follow'],
  ]);
  // `Variables` (a comma list: each read as a variable or, ending in `)`, a function; none read as
  // C's "(null)") and with `AllVariables` every channel variable, newest first; then the ActionID,
  // which generate_status writes last.
  const names = (ctx.f.variables ?? '').split(',').filter((v) => v !== '');
  const all = /^(yes|true|y|t|1|on)$/i.test((ctx.f.allvariables ?? '').trim());
  for (const c of chans) {
    const variables: Fields = names.map((v) => [
      'Variable',
      `${v}=${(v.endsWith(')') ? (readFunction(m, c, v) ?? '') : retrieveVariable(m, c, v)) ?? '(null)'}`,
    ]);
    if (all) for (const [k, v] of [...c.vars].reverse()) variables.push(['Variable', `${k}=${v}`]);
    ctx.session.write(
      packet([
        ['Event', 'Status'],
        ['Privilege', 'Call'],
        ...snapshot(c),
        ['Type', c.name.split('/')[0]!],
        ['DNID', ''],
        ['EffectiveConnectedLineNum', c.connected.number || '<unknown>'],
        ['EffectiveConnectedLineName', c.connected.name || '<unknown>'],
        ['TimeToHangup', 0],
        ['BridgeID', c.bridge ?? ''],
        ['Application', c.dialplan.app_name],
        ['Data', c.dialplan.app_data],
        ['Nativeformats', '(ulaw)'],
        ['Readformat', 'ulaw'],
        ['Readtrans', ''],
        ['Writeformat', 'ulaw'],
        ['Writetrans', ''],
        ['Callgroup', 0],
        ['Pickupgroup', 0],
        ['Seconds', Math.floor((Date.now() - Date.parse(c.creationtime.replace('+0000', 'Z'))) / 1000)],
        ...variables,
        ...ctx.actionId,
      ]),
    );
  }
  ctx.listEvent([
    ['Event', 'StatusComplete'],
    ['EventList', 'Complete'],
    ['ListItems', chans.length],
    ['Items', chans.length],
  ]);
};

// res_pjsip's AMI (pjsip_configuration.c): the detail of one endpoint, or the list of all. Errors
// carry the trailing newline Asterisk's messages have on the wire.
const pjsipShowEndpoint: Action = (ctx) => {
  const dir = ctx.core.hooks.pjsip;
  let name = ctx.f.endpoint ?? '';
  if (!name) return error(ctx, 'PJSIPShowEndpoint requires an endpoint name\n');
  if (name.toLowerCase().startsWith('pjsip/')) name = name.slice(6);
  void dir.objects(name).then((o) => {
    if (!o) return error(ctx, `Unable to retrieve endpoint ${name}\n`);
    ctx.reply([
      ['Response', 'Success'],
      ['EventList', 'start'],
      ['Message', 'Following are Events for each object associated with the Endpoint'],
    ]);
    const { items, errors } = endpointDetail(o, dir.live(name, o));
    for (const i of items) ctx.listEvent(i);
    for (const e of errors) error(ctx, e);
    ctx.listEvent([
      ['Event', 'EndpointDetailComplete'],
      ['EventList', 'Complete'],
      ['ListItems', items.length],
    ]);
  });
};

const pjsipShowEndpoints: Action = (ctx) => {
  const dir = ctx.core.hooks.pjsip;
  void (async () => {
    const all = [];
    for (const n of await dir.loadAll()) {
      const o = await dir.objects(n);
      if (o) all.push(o);
    }
    if (all.length === 0) return error(ctx, 'No endpoints found\n');
    ctx.reply([
      ['Response', 'Success'],
      ['EventList', 'start'],
      ['Message', 'A listing of Endpoints follows, presented as EndpointList events'],
    ]);
    for (const o of all) ctx.listEvent(endpointListItem(o, dir.live(o.endpoint.id ?? '', o)));
    ctx.listEvent([
      ['Event', 'EndpointListComplete'],
      ['EventList', 'Complete'],
      ['ListItems', all.length],
    ]);
  })();
};

/**
 * AbsoluteTimeout (manager.c action_timeout): the channel hangs up by itself `Timeout` seconds
 * from now (atof: a fraction counts), as TIMEOUT(absolute) does. The checks in manager.c's order.
 */
const absoluteTimeout: Action = (ctx) => {
  const name = ctx.f.channel ?? '';
  const timeout = Number.parseFloat(ctx.f.timeout ?? '') || 0;
  if (!name) return error(ctx, 'No channel specified');
  if (!timeout || timeout < 0) return error(ctx, 'No timeout specified');
  const c = byName(ctx, name);
  if (!c) return error(ctx, 'No such channel');
  ctx.core.model.setAbsoluteTimeout(c, timeout);
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'Timeout Set'],
  ]);
};

/** ast_true: what Asterisk reads as yes. */
const yes = (v: string | undefined) => /^(yes|true|y|t|1|on)$/i.test((v ?? '').trim());

/**
 * PlayDTMF (app_senddtmf.c manager_play_dtmf): one digit, `Receive: yes` queued on the channel as
 * a digit it reads (a begin now, its end `Duration` ms later, 100 when none), else sent to its far
 * end without ast_write (through a Local pair the other half reads it; a PJSIP far end unseen).
 */
const playDtmf: Action = (ctx) => {
  const c = byName(ctx, ctx.f.channel ?? '');
  if (!c) return error(ctx, 'Channel not found');
  const digit = (ctx.f.digit ?? '')[0];
  if (!digit) return error(ctx, 'No digit specified');
  const given = ctx.f.duration ?? '';
  const parsed = /^\s*[-+]?(\d+)/.exec(given);
  if (given && !parsed) return error(ctx, 'Could not convert Duration parameter');
  const ms = Number(parsed?.[1] ?? 0) || 100;
  const m = ctx.core.model;
  const reader = yes(ctx.f.receive) ? c : c.peer ? m.channels.get(c.peer) : undefined;
  if (reader) {
    m.readDtmf(reader, digit, null);
    m.later(reader, ms, () => m.readDtmf(reader, digit, ms));
  }
  ctx.reply([
    ['Response', 'Success'],
    ['Message', 'DTMF successfully queued'],
  ]);
};

export const ACTIONS: Record<string, Action> = {
  ...SESSION_ACTIONS,
  logoff: (ctx) => {
    ctx.reply([
      ['Response', 'Goodbye'],
      ['Message', 'Thanks for all the fish.'],
    ]);
    ctx.session.end();
  },
  ping: (ctx) =>
    ctx.reply([
      ['Response', 'Success'],
      ['Ping', 'Pong'],
      ['Timestamp', (Date.now() / 1000).toFixed(6)],
    ]),
  listcommands: listCommands,
  coreshowchannels: coreShowChannels,
  hangup,
  getvar,
  setvar,
  redirect,
  status,
  originate,
  absolutetimeout: absoluteTimeout,
  playdtmf: playDtmf,
  corestatus: (ctx) => {
    const { core } = ctx;
    ctx.reply([
      ['Response', 'Success'],
      ['CoreStartupDate', core.started.toISOString().slice(0, 10)],
      ['CoreStartupTime', core.started.toISOString().slice(11, 19)],
      ['CoreReloadDate', core.reloaded.toISOString().slice(0, 10)],
      ['CoreReloadTime', core.reloaded.toISOString().slice(11, 19)],
      ['CoreCurrentCalls', core.model.channels.size],
      ['CoreProcessedCalls', core.processedCalls],
    ]);
  },
  coresettings: (ctx) =>
    ctx.reply([
      ['Response', 'Success'],
      ['AMIversion', '11.0.0'],
      ['AsteriskVersion', '22.10.1'],
      ['SystemName', ''],
      ['CoreMaxCalls', 0],
      ['CoreMaxLoadAvg', '0.000000'],
      ['CoreRunUser', ''],
      ['CoreRunGroup', ''],
      ['CoreMaxFilehandles', 0],
      ['CoreRealTimeEnabled', 'Yes'],
      ['CoreCDRenabled', 'Yes'],
      // manager.conf webenabled (AMI over HTTP), not ARI's HTTP server.
      ['CoreHTTPenabled', 'No'],
      ['SoundsSearchCustomDir', 'No'],
    ]),
  reload: (ctx) => {
    ctx.core.reloaded = new Date();
    ctx.reply([
      ['Response', 'Success'],
      ['Message', 'Module Reloaded'],
    ]);
  },
  command: (ctx) => {
    // Asterisk 22 answers with one `Output:` line per line of CLI output; a command it does not
    // know is an Error that still carries the CLI's complaint as output.
    const out = cli(ctx.core, ctx.f.command ?? '');
    ctx.reply([
      ['Response', out[0]?.startsWith('No such command') ? 'Error' : 'Success'],
      ['Message', 'Command output follows'],
      ...out.map((l) => ['Output', l] as [string, string]),
    ]);
  },
  extensionstate: extensionState,
  extensionstatelist: extensionStateList,
  queuestatus: queueStatus,
  queuesummary: queueSummary,
  mixmonitor: mixMonitor,
  stopmixmonitor: stopMixMonitor,
  mixmonitormute: mixMonitorMute,
  pjsipshowendpoints: pjsipShowEndpoints,
  pjsipshowendpoint: pjsipShowEndpoint,
  blindtransfer: blindTransfer,
  atxfer,
};
