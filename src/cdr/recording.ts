// A call's recording sent to whoever may hear it (the API's /v1/calls/{id}/recording and the
// console's player): fetched from the Asterisk node that recorded it and passed on as it arrives.
// Asterisk's ARI sends a stored recording's file whole (with its length, never a part), so a byte
// range a browser asks for to seek is cut out here: the bytes before it are read from Asterisk and
// dropped, the transfer from Asterisk stops once the range is sent.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AsteriskModule } from '../asterisk/index.ts';
import { AriError } from '../asterisk/index.ts';
import { AppError, notFound } from '../platform/http/errors.ts';
import type { CallRecordRow } from './repository.ts';

export type ByteRange = { start: number; end: number };

/**
 * The part of a file of `size` bytes a `Range` header asks for: one range (`end` included), or
 * 'unsatisfiable' (it starts past the end), or null for the whole file — no header, a header this
 * server ignores as RFC 9110 lets it (several ranges, another unit, a range whose end is before its
 * start, anything that does not parse).
 */
export function byteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d{0,15})\s*-\s*(\d{0,15})\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // The last n bytes (the whole file when it is shorter).
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? null : Number(m[2]);
  if (last !== null && last < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last ?? size - 1, size - 1) };
}

/** The bytes `start`..`end` (included) of a stream; the source is let go as soon as they are out. */
export async function* sliceBytes(src: AsyncIterable<Buffer>, r: ByteRange): AsyncGenerator<Buffer> {
  let pos = 0;
  for await (const chunk of src) {
    const from = Math.max(0, r.start - pos);
    const to = Math.min(chunk.length, r.end + 1 - pos);
    if (to > from) yield chunk.subarray(from, to);
    pos += chunk.length;
    if (pos > r.end) return;
  }
}

/**
 * Sends a call's recording (the caller has checked the call is the asker's to see): 404 when the
 * call has none or retention deleted it, 503 when its node is not configured here or does not serve
 * it; with `Range`, the part asked for (206) or 416.
 */
export async function sendRecording(
  req: FastifyRequest,
  reply: FastifyReply,
  row: CallRecordRow,
  asterisk: AsteriskModule | undefined,
) {
  const id = row.callId;
  if (!row.recordingName) throw notFound('recording of call', id);
  if (row.recordingDeletedAt)
    throw new AppError(
      'NOT_FOUND',
      `the recording of call ${id} was deleted by retention at ${row.recordingDeletedAt.toISOString()}`,
    );
  const node = asterisk?.nodes.get(row.nodeId);
  if (!node)
    throw new AppError('DEPENDENCY_UNAVAILABLE', `Asterisk node ${row.nodeId} is not configured here`);
  const file = await node.ari.recordingFile(row.recordingName).catch((err: unknown) => {
    if (err instanceof AriError && err.status === 404) throw notFound('recording of call', id);
    req.log.warn({ callId: id, err: (err as Error).message }, 'recording not fetched from Asterisk');
    throw new AppError('DEPENDENCY_UNAVAILABLE', `Asterisk node ${row.nodeId} did not serve the recording`);
  });
  // A client that goes away stops the transfer from Asterisk too.
  reply.raw.once('close', () => file.destroy());
  const length = file.headers['content-length'];
  const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
  // An If-Range can only name a validator, and none is sent: the whole file (RFC 9110).
  const range =
    size === null || req.headers['if-range'] !== undefined ? null : byteRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    file.destroy();
    return reply.status(416).header('content-range', `bytes */${size}`).send();
  }
  const type = file.headers['content-type'] ?? 'application/octet-stream';
  const ext = /^audio\/([\w.-]+)$/.exec(type)?.[1] ?? 'bin';
  reply.type(type).header('content-disposition', `attachment; filename="${id}.${ext}"`);
  // Without its length a part cannot be named: the whole file, and no promise of ranges.
  if (size === null) return reply.send(file);
  reply.header('accept-ranges', 'bytes');
  if (!range) return reply.header('content-length', String(size)).send(file);
  return reply
    .status(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
    .header('content-length', String(range.end - range.start + 1))
    .send(Readable.from(sliceBytes(file, range), { objectMode: false }));
}
