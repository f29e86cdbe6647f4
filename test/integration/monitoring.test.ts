// monitoring/: the Prometheus alert rules and the Grafana dashboard name only metrics a daemon
// really exports (read from the /metrics of a daemon with every module, connected to the simulator),
// and the rules pass `promtool check rules` where promtool is installed (.ci/run installs Debian's
// prometheus package for it).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { defaultModules } from '../../src/modules.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';
import { simEnv } from '../helpers/sim-env.ts';

const PROMQL_WORDS = new Set(
  'sum avg min max count rate irate increase delta histogram_quantile time abs and or unless on ignoring group_left group_right bool offset'.split(
    ' ',
  ),
);

/** The metric names an expression reads: label matchers, strings, numbers, grouping and functions left out. */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)].map((m) => m[0]).filter((t) => !PROMQL_WORDS.has(t));
}

describe('monitoring/ against a running daemon', { timeout: 120_000 }, () => {
  const { log } = capturingLogger('warn');
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  const exported = new Set<string>(['up']); // `up` is Prometheus's own, per scrape target

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    d = await startDaemon(testConfig({ DATABASE_URL: db.url, ...simEnv(sim) }), log, defaultModules(), {
      listen: false,
    });
    const text = (await d.app.inject('/metrics')).body;
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const [, name, type] = m as unknown as [string, string, string];
      exported.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(name + s);
      if (type === 'summary') for (const s of ['_sum', '_count']) exported.add(name + s);
    }
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
  });

  it('every alert is complete and reads only exported metrics', () => {
    const rules = parse(readFileSync('monitoring/alerts.yml', 'utf8')) as {
      groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;
    };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThan(5);
    for (const r of all) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^CapConduit\w+$/);
      expect(['critical', 'warning']).toContain((r.labels as { severity: string }).severity);
      expect((r.annotations as { summary?: string }).summary).toBeTruthy();
      const names = metricsIn(String(r.expr));
      expect(names.length, String(r.expr)).toBeGreaterThan(0);
      for (const n of names) expect(exported.has(n), `${r.alert}: ${n}`).toBe(true);
    }
  });

  it('every dashboard panel queries only exported metrics, through the dashboard data source', () => {
    const dash = JSON.parse(readFileSync('monitoring/grafana-dashboard.json', 'utf8')) as {
      templating: { list: Array<{ name: string; type: string }> };
      panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>;
    };
    expect(dash.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    expect(dash.panels.length).toBeGreaterThan(5);
    for (const p of dash.panels) {
      expect(p.datasource.uid).toBe(`$\u007bdatasource}`);
      for (const t of p.targets)
        for (const n of metricsIn(t.expr)) expect(exported.has(n), `${p.title}: ${n}`).toBe(true);
    }
  });

  it('the expression reader finds the metrics and nothing else (so the checks above can fail)', () => {
    expect(
      metricsIn(
        'sum by (instance, le) (rate(capconduit_x_bucket{route="/a b"}[5m])) / on (instance) max(nodejs_y) > 0.1',
      ),
    ).toEqual(['capconduit_x_bucket', 'nodejs_y']);
    expect(exported.has('capconduit_no_such_metric')).toBe(false);
  });

  it.runIf(spawnSync('promtool', ['--version']).status === 0)('promtool accepts the rules', () => {
    expect(() => execFileSync('promtool', ['check', 'rules', 'monitoring/alerts.yml'])).not.toThrow();
  });
});
