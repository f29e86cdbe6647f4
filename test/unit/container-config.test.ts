// docker/: the compose file is valid Compose (checked against the Compose specification's JSON
// schema, test/fixtures/compose-spec.json from compose-spec/compose-spec, as no Docker engine runs
// here) and coherent with the sample Asterisk configuration and the images; the daemon image runs
// unprivileged and writes only to its volume; the Asterisk image's address edits still find their
// lines in asterisk/.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  profiles?: string[];
};
const compose = parse(read('docker/compose.yaml')) as { services: Record<string, Service> };

/** `[section]` -> key -> value of an Asterisk .conf file (comments dropped). */
function conf(file: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let cur = '';
  for (const raw of read(`asterisk/${file}`).split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    const s = /^\[([^\]]+)\]/.exec(line);
    if (s) {
      cur = s[1]!;
      out[cur] ??= {};
    } else {
      const m = /^([^=]+?)\s*=>?\s*(.*)$/.exec(line);
      if (m) out[cur]![m[1]!] = m[2]!;
    }
  }
  return out;
}

/** The instructions of a Dockerfile's last stage, continuation lines joined. */
function lastStage(path: string): Array<[string, string]> {
  const lines = read(path)
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  const from = lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
  return lines.slice(from).map((l) => {
    const i = l.indexOf(' ');
    return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
  });
}

describe('docker/compose.yaml', () => {
  it('is valid against the Compose specification schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    // The schema names draft-07 by an address Ajv does not know by heart; it is draft-07 all the same.
    const { $schema: _draft, ...schema } = JSON.parse(read('test/fixtures/compose-spec.json'));
    const validate = ajv.compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
  });

  it('builds every image of ours from a Dockerfile in docker/ and names no image that does not exist', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.image) expect(['postgres:15', 'redis:7'], name).toContain(s.image);
      else expect(() => read(`docker/${s.build!.dockerfile.replace(/^docker\//, '')}`), name).not.toThrow();
    }
    expect(compose.services.asterisk!.build!.dockerfile).toBe('docker/asterisk.Dockerfile');
  });

  it('gives the daemon the credentials of the sample Asterisk config and of its PostgreSQL service', () => {
    const env = compose.services.daemon!.environment!;
    const ari = conf('ari.conf');
    const user = Object.keys(ari).find((k) => ari[k]!.type === 'user')!;
    expect(env.ASTERISK_ARI_USER).toBe(user);
    expect(env.ASTERISK_ARI_PASSWORD).toBe(ari[user]!.password);
    const ami = conf('manager.conf');
    expect(ami[env.ASTERISK_AMI_USER!]?.secret).toBe(env.ASTERISK_AMI_SECRET);
    expect(env.ASTERISK_AMI_PORT).toBe(ami.general!.port);
    expect(env.ASTERISK_ARI_URL).toMatch(new RegExp(`:${conf('http.conf').general!.bindport}$`));
    const pg = compose.services.postgres!.environment!;
    const url = new URL(env.DATABASE_URL!);
    expect([url.username, url.password, url.pathname.slice(1)]).toEqual([
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      pg.POSTGRES_DB,
    ]);
    const pgsql = conf('res_pgsql.conf').general!;
    expect([pgsql.dbuser, pgsql.dbpass, pgsql.dbname, pgsql.dbport]).toEqual([
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      pg.POSTGRES_DB,
      url.port,
    ]);
    // Asterisk's CDRs go into the same database, in the table the daemon reads them back from.
    const cdr = conf('cdr_pgsql.conf').global!;
    expect([cdr.user, cdr.password, cdr.dbname, cdr.port, cdr.table]).toEqual([
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      pg.POSTGRES_DB,
      url.port,
      'asterisk_cdr',
    ]);
    // The simulator is started with the same credentials (its defaults) and database.
    const sim = compose.services.simulator!.command!;
    expect(sim).toContain(env.DATABASE_URL);
    expect(sim).not.toContain('--user');
  });

  it("mounts a volume on the daemon image's data directory, where its CDR journal lives", () => {
    const stage = lastStage('docker/Dockerfile');
    const volume = JSON.parse(stage.find(([k]) => k === 'VOLUME')![1]) as string[];
    const mounts = compose.services.daemon!.volumes!.map((v) => v.split(':')[1]);
    expect(mounts).toEqual(volume);
  });
});

describe('docker/Dockerfile (runtime stage)', () => {
  const stage = lastStage('docker/Dockerfile');
  const env = Object.fromEntries(
    stage.filter(([k]) => k === 'ENV').map(([, v]) => v.split('=') as [string, string]),
  );
  const user = stage.filter(([k]) => k === 'USER').at(-1)?.[1];
  const volumes = JSON.parse(stage.find(([k]) => k === 'VOLUME')![1]) as string[];

  it('runs as an unprivileged user who owns the volume, with the CDR journal on it by an absolute path', () => {
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(env.CDR_BUFFER_DIR).toMatch(/^\//);
    expect(volumes.some((v) => env.CDR_BUFFER_DIR!.startsWith(`${v}/`))).toBe(true);
    for (const v of volumes)
      expect(
        stage.some(([k, r]) => k === 'RUN' && r.includes(`chown ${user}:${user} ${v}`)),
        v,
      ).toBe(true);
    // Nothing else is handed to the user: /app stays root's.
    expect(stage.filter(([k, r]) => k === 'RUN' && r.includes('chown'))).toHaveLength(volumes.length);
  });
});

describe('docker/asterisk.Dockerfile', () => {
  it('each address edit finds exactly one line in the sample it changes', () => {
    const run = lastStage('docker/asterisk.Dockerfile')
      .filter(([k]) => k === 'RUN')
      .map(([, r]) => r)
      .join(' ');
    const edits = [...run.matchAll(/sed -i '?s([/#])\^(.*?)\$\1(.*?)\1'? ((?:\/etc\/asterisk\/[\w.]+ ?)+)/g)];
    expect(edits.length).toBeGreaterThanOrEqual(3);
    for (const [, , pattern, , files] of edits) {
      const literal = pattern!.replace(/\\(.)/g, '$1');
      for (const f of files!.trim().split(' ')) {
        const lines = read(`asterisk/${f.replace('/etc/asterisk/', '')}`).split('\n');
        const re = new RegExp(`^${literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
        expect(
          lines.filter((l) => re.test(l)),
          `${f}: ${literal}`,
        ).toHaveLength(1);
      }
    }
  });
});
