// The console's stylesheet and script, read once at start and served by the daemon itself (no CDN,
// nothing fetched at run time). Revalidated by ETag, so a new release is picked up on next load.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets');
const TYPES: Record<string, string> = {
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
};

export async function assetRoutes(app: FastifyInstance) {
  const files = Object.entries(TYPES).map(([name, type]) => {
    const body = readFileSync(join(dir, name));
    return {
      name,
      type,
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    };
  });
  for (const f of files) {
    app.get(`/assets/${f.name}`, { config: { console: { public: true } } }, async (req, reply) => {
      reply.header('etag', f.etag).header('cache-control', 'no-cache').type(f.type);
      if (req.headers['if-none-match'] === f.etag) return reply.status(304).send();
      return reply.send(f.body);
    });
  }
}
