// cdr_manager: each CDR the engine posts (cdr.ts builds them) as an AMI `Cdr` event, in the `cdr`
// class, when cdr_manager.conf has `enabled = yes` in [general] (without the file, or with
// `enabled = no` as Asterisk ships it, the module sends nothing: the recorded Asterisk sent none).
// Fields in cdr_manager.c's order; times local (the simulator's zone is UTC) as `%Y-%m-%d %T`, an
// unanswered call's AnswerTime empty; then one `<name>: <value>` per [mappings] entry
// (`field => Name`), which Asterisk fills with ${CDR(field)}: the record's fields, else the
// record's variables (what CDR(name) wrote; unset: empty).
import { type AsteriskCdr, readConf } from '../cdr.ts';
import type { Fields } from './protocol.ts';

export interface CdrManagerSettings {
  enabled: boolean;
  /** [mappings]: CDR field name -> header name, in the file's order. */
  mappings: Array<[string, string]>;
}

/** cdr_manager.conf from an Asterisk configuration folder (no file: not enabled). */
export function loadCdrManager(dir: string): CdrManagerSettings {
  const conf = readConf(`${dir}/cdr_manager.conf`);
  const enabled = /^(yes|true|y|t|1|on)$/i.test(conf.get('general')?.get('enabled') ?? '');
  const mappings = [...(conf.get('mappings') ?? new Map<string, string>())].filter(([k, v]) => k && v);
  return { enabled, mappings };
}

/** `%Y-%m-%d %T` (UTC, the simulator's zone); 0 is no time. */
const time = (ms: number) => (ms ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '');

/** ${CDR(name)} for a record: its fields by Asterisk's names (times as the CDR function prints them). */
function cdrField(cdr: AsteriskCdr, name: string): string {
  const k = name.toLowerCase();
  if (k === 'start' || k === 'answer' || k === 'end') return time(cdr[k]);
  if (k === 'amaflags') return cdr.amaflags;
  const v = k === 'variables' ? undefined : (cdr as unknown as Record<string, unknown>)[k];
  return v === undefined ? (cdr.variables?.[name] ?? '') : String(v);
}

export function cdrEvent(cdr: AsteriskCdr, s: CdrManagerSettings): Fields {
  return [
    ['Event', 'Cdr'],
    ['Privilege', 'cdr,all'],
    ['AccountCode', cdr.accountcode],
    ['Source', cdr.src],
    ['Destination', cdr.dst],
    ['DestinationContext', cdr.dcontext],
    ['CallerID', cdr.clid],
    ['Channel', cdr.channel],
    ['DestinationChannel', cdr.dstchannel],
    ['LastApplication', cdr.lastapp],
    ['LastData', cdr.lastdata],
    ['StartTime', time(cdr.start)],
    ['AnswerTime', time(cdr.answer)],
    ['EndTime', time(cdr.end)],
    ['Duration', cdr.duration],
    ['BillableSeconds', cdr.billsec],
    ['Disposition', cdr.disposition],
    ['AMAFlags', cdr.amaflags],
    ['UniqueID', cdr.uniqueid],
    ['UserField', cdr.userfield],
    ...s.mappings.map(([field, header]): [string, string] => [header, cdrField(cdr, field)]),
  ];
}
