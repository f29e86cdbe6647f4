// The VICIdial caller-ID snippet (asterisk/vicidial-cid.conf) holds Asterisk facts the simulator
// cannot run (func_curl, REGEX): this pins them on the file itself.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const lines = readFileSync(new URL('../../asterisk/vicidial-cid.conf', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => !l.trimStart().startsWith(';'));
const text = lines.join('\n');

describe('asterisk/vicidial-cid.conf', () => {
  it("REGEX patterns need no backslash (Asterisk's argument parser drops them) and accept only a number", () => {
    const patterns = [...text.matchAll(/REGEX\("([^"]*)"/g)].map((m) => m[1]!);
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) {
      expect(p).not.toContain('\\');
      // What regcomp() gets; ERE and JS agree on this subset (anchors, classes, bounds).
      const re = new RegExp(p);
      for (const ok of ['+12125550100', '12125550100', '2125550100']) expect(re.test(ok)).toBe(true);
      for (const bad of ['', '+', 'POOL_EXHAUSTED', '212555', '+1212555010012345'])
        expect(re.test(bad)).toBe(false);
    }
  });

  it('CURL gets no second argument (that is POST data) and both timeouts are set before it', () => {
    const curl = lines.findIndex((l) => l.includes('${CURL('));
    expect(curl).toBeGreaterThan(0);
    // The URL is the only argument: no comma at the CURL call's own nesting level.
    const call = lines[curl]!.slice(lines[curl]!.indexOf('${CURL(') + 7);
    let depth = 0;
    let commas = 0;
    for (const ch of call) {
      if (ch === '(' || ch === '{') depth++;
      else if (ch === ')' || ch === '}') {
        if (depth === 0) break;
        depth--;
      } else if (ch === ',' && depth === 0) commas++;
    }
    expect(commas).toBe(0);
    const before = lines.slice(0, curl).join('\n');
    expect(before).toMatch(/Set\(CURLOPT\(conntimeout\)=\d+\)/);
    expect(before).toMatch(/Set\(CURLOPT\(httptimeout\)=\d+\)/);
    expect(before).toMatch(/Set\(CURLOPT\(failurecodes\)=[^)]*503/);
    expect(lines[curl]).toContain('format=text');
  });

  it('the key travels in an Authorization header set once per channel, never in the URL', () => {
    const curl = lines.findIndex((l) => l.includes('${CURL('));
    const url = lines[curl]!.slice(lines[curl]!.indexOf('${CURL('));
    expect(url).not.toMatch(/key=|DIALER_KEY/);
    const header = lines.findIndex((l) =>
      /Set\(CURLOPT\(httpheader\)=Authorization: Bearer \$\{CAPCONDUIT_DIALER_KEY\}\)/.test(l),
    );
    expect(header).toBeGreaterThan(0);
    expect(header).toBeLessThan(curl);
    // func_curl adds a header per Set(): the guard skips the Set when this channel already has it.
    const guard = lines[header - 1]!;
    const flag = /GotoIf\(\$\["\$\{(\w+)\}" = "1"\]\?(\w+)\)/.exec(guard);
    expect(flag, guard).not.toBeNull();
    expect(lines[header + 1]).toContain(`Set(${flag![1]}=1)`);
    expect(lines[curl]).toContain(`n(${flag![2]}),`);
  });
});
