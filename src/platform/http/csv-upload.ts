// CSV uploads, one rule for every import route: the file comes as the request body with
// `Content-Type: text/csv` (`curl --data-binary @f.csv -H 'Content-Type: text/csv'`), or as the file part
// of a `multipart/form-data` upload (`curl -F file=@f.csv`, a browser's file input). Either way the
// handler gets a stream, read only after authentication (parsers and the multipart reader run after
// onRequest) and never buffered whole. Any other content type is refused before a byte of it is read,
// naming what the route wants. A declared length over the route's limit is refused before reading.
import { pipeline, type Readable, Transform } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';

/** What a multipart envelope may add around the file (boundaries, part headers, a few small fields). */
const ENVELOPE_BYTES = 64 * 1024;

const wanted =
  'send the CSV file as the request body with Content-Type: text/csv, or as the file part of a multipart/form-data upload (curl -F file=@list.csv)';

/**
 * Makes `scope` (a plugin scope holding only import routes) take CSV uploads: its own parsers replace
 * the inherited ones, so nothing else (JSON, forms) is parsed there.
 */
export async function acceptCsvUploads(scope: FastifyInstance, maxBytes: number): Promise<void> {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('text/csv', (_req, payload, done) => done(null, payload));
  await scope.register(multipart, {
    // One file; a handful of small fields at most (browsers may add a submit button's); the file no
    // larger than the raw body may be (csvUpload turns going past it into a 413).
    limits: { files: 1, fields: 10, parts: 20, fieldSize: 1024, headerPairs: 50, fileSize: maxBytes },
  });
  scope.addContentTypeParser('*', (req, _payload, done) =>
    done(
      new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `${wanted} (got ${String(req.headers['content-type'] ?? 'none').split(';')[0]})`,
      ),
      undefined,
    ),
  );
}

/** The uploaded CSV as a stream (a route in a scope prepared by `acceptCsvUploads`). */
export async function csvUpload(req: FastifyRequest, maxBytes: number): Promise<Readable> {
  const multi = req.isMultipart();
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes + (multi ? ENVELOPE_BYTES : 0))
    throw new AppError('PAYLOAD_TOO_LARGE', `a CSV import is at most ${maxBytes} bytes`);
  if (!multi) {
    const body = req.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') throw new AppError('UNSUPPORTED_MEDIA_TYPE', wanted);
    return body;
  }
  let part: Awaited<ReturnType<FastifyRequest['file']>>;
  try {
    part = await req.file();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 413) throw e;
    throw new AppError('VALIDATION_FAILED', `not a readable multipart upload: ${(e as Error).message}`);
  }
  if (!part) throw new AppError('VALIDATION_FAILED', `the upload has no file part: ${wanted}`);
  // Past the limit the multipart reader only cuts the file short (marking it truncated): the import
  // must fail at the end instead of taking the first part of the file for the whole.
  const file = part.file;
  const guard = new Transform({
    transform: (chunk, _enc, done) => done(null, chunk),
    flush: (done) =>
      done(
        file.truncated
          ? new AppError('PAYLOAD_TOO_LARGE', `a CSV import is at most ${maxBytes} bytes`)
          : null,
      ),
  });
  return pipeline(file, guard, () => {});
}
