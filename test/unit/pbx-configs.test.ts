// The sample Asterisk config in asterisk/ maps exactly the realtime tables the daemon writes, and
// names the transport and contexts the daemon writes into endpoints by default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ASTERISK_TABLES } from '../../src/db/schema/asterisk.ts';
import { loadDialplan } from '../../src/simulator/dialplan.ts';

const file = (f: string) => readFileSync(new URL(`../../asterisk/${f}`, import.meta.url), 'utf8');
/** `[section]` -> key -> value of an Asterisk .conf file (comments dropped, `=>` and `=` alike). */
function sections(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    if (!line) continue;
    const s = /^\[([^\]]+)\]/.exec(line);
    if (s) {
      cur = s[1]!;
      out[cur] ??= {};
      continue;
    }
    const m = /^([^=]+?)\s*=>?\s*(.*)$/.exec(line);
    if (m) out[cur]![m[1]!] = m[2]!;
  }
  return out;
}

describe('asterisk/ sample config', () => {
  const defaults = parseConfig({
    DATABASE_URL: 'postgres://x@127.0.0.1/x',
    REDIS_URL: 'redis://127.0.0.1',
    MASTER_KEY: '00'.repeat(32),
  });

  it('extconfig.conf maps every realtime table to pgsql, and sorcery.conf uses each family', () => {
    const ext = sections(file('extconfig.conf')).settings!;
    expect(Object.keys(ext).sort()).toEqual(Object.keys(ASTERISK_TABLES).sort());
    for (const [family, v] of Object.entries(ext)) expect(v).toMatch(new RegExp(`^pgsql,[^,]+,${family}$`));
    const sorcery = sections(file('sorcery.conf'));
    const used = Object.values(sorcery).flatMap((s) => Object.values(s));
    for (const family of Object.keys(ext)) expect(used).toContain(`realtime,${family}`);
    expect(sorcery.res_pjsip).toMatchObject({ endpoint: 'realtime,ps_endpoints', auth: 'realtime,ps_auths' });
    expect(sorcery.res_pjsip_endpoint_identifier_ip).toEqual({ identify: 'realtime,ps_endpoint_id_ips' });
    expect(sections(file('res_pgsql.conf')).general).toMatchObject({ requirements: 'warn' });
  });

  it('pjsip.conf defines the default transport; extensions.conf the default contexts', () => {
    const pjsip = sections(file('pjsip.conf'));
    expect(pjsip[defaults.PBX_TRANSPORT]).toMatchObject({ type: 'transport', protocol: 'udp' });
    const dp = loadDialplan(new URL('../../asterisk/extensions.conf', import.meta.url).pathname);
    for (const ctx of [
      defaults.PBX_USER_CONTEXT,
      defaults.PBX_CLIENT_CONTEXT,
      'from-carrier',
      'from-carrier-broadcast',
    ])
      expect(dp.contexts.has(ctx), ctx).toBe(true);
  });
});
