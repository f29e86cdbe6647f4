// A pool's VICIdial snippet is the shipped routine with the daemon's URL, the pool and its fallback
// filled in, and nothing else changed (the facts test/unit/asterisk-cid-snippet.test.ts pins on the
// file hold for it too).
import { describe, expect, it } from 'vitest';
import { vicidialSnippet, vicidialTemplate } from '../../src/callerid/snippet.ts';

describe('the VICIdial snippet of a pool', () => {
  const file = vicidialTemplate();
  const out = vicidialSnippet(file, {
    url: 'http://10.0.0.5:8080/',
    pool: 'SALES01',
    fallback: '+12125550100',
  });

  it('fills in the URL, the fallback and the pool, and leaves every other line as shipped', () => {
    const a = file.split('\n');
    const b = out.split('\n');
    expect(b[0]).toBe(
      '; For the CapConduit caller-ID pool SALES01: Gosub(capconduit-cid,s,1(SALES01,<number dialled>))',
    );
    expect(b.length).toBe(a.length + 1);
    const changed = a.flatMap((line, i) => (line === b[i + 1] ? [] : [[line, b[i + 1]]]));
    expect(changed).toEqual([
      [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dialplan variables, not JavaScript
        ';   exten => _91NXXNXXXXXX,n,Gosub(capconduit-cid,s,1(${CAMPAIGN},${EXTEN:2}))',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dialplan variables, not JavaScript
        ';   exten => _91NXXNXXXXXX,n,Gosub(capconduit-cid,s,1(SALES01,${EXTEN:2}))',
      ],
      ['CAPCONDUIT_URL=http://127.0.0.1:8080', 'CAPCONDUIT_URL=http://10.0.0.5:8080'],
      ['CID_FALLBACK=+14155550100', 'CID_FALLBACK=+12125550100'],
    ]);
    // The key stays a placeholder, sent in the header, never in the URL.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dialplan variables, not JavaScript
    expect(out).toContain('Set(CURLOPT(httpheader)=Authorization: Bearer ${CAPCONDUIT_DIALER_KEY})');
    expect(out).toContain('CAPCONDUIT_DIALER_KEY=cc_replace_with_your_dialer_key');
  });

  it('a pool without a fallback keeps the example one; what a dialplan would misread is refused', () => {
    expect(
      vicidialSnippet(file, { url: 'https://cid.example.com', pool: 'a.b-c_1', fallback: null }),
    ).toContain('CID_FALLBACK=+14155550100');
    expect(() => vicidialSnippet(file, { url: 'http://x', pool: 'a,b', fallback: null })).toThrow();
    expect(() => vicidialSnippet(file, { url: 'http://x;y', pool: 'a', fallback: null })).toThrow();
    expect(() => vicidialSnippet(file, { url: 'ftp://x', pool: 'a', fallback: null })).toThrow();
  });
});
