// The CSV upload helper on a bare Fastify app with a tiny limit: a file that grows past the limit while
// streaming fails the read with a 413 (a declared length says nothing about a multipart file alone).
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { acceptCsvUploads, csvUpload } from '../../src/platform/http/csv-upload.ts';

const B = 'xyzBOUNDARY';
const upload = (file: string) =>
  `--${B}\r\nContent-Disposition: form-data; name="file"; filename="f.csv"\r\nContent-Type: text/csv\r\n\r\n${file}\r\n--${B}--\r\n`;

describe('CSV upload limits', () => {
  it('a multipart file over the limit fails while streaming with 413; within it, it is read whole', async () => {
    const app = Fastify();
    await app.register(async (scope) => {
      await acceptCsvUploads(scope, 100);
      scope.post('/in', async (req) => {
        let n = 0;
        for await (const chunk of await csvUpload(req, 100)) n += (chunk as Buffer).length;
        return { bytes: n };
      });
    });
    const send = (file: string) =>
      app.inject({
        method: 'POST',
        url: '/in',
        headers: { 'content-type': `multipart/form-data; boundary=${B}` },
        payload: upload(file),
      });
    const ok = await send('caller_id\n'.repeat(10));
    expect([ok.statusCode, ok.json().bytes]).toEqual([200, 100]);
    const over = await send('caller_id\n'.repeat(11));
    expect(over.statusCode).toBe(413);
    await app.close();
  });
});
