// A logger whose every line is kept in memory, for tests that read what the daemon logged.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/platform/logger.ts';

export function capturingLogger(level = 'trace'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: createLogger({ level, destination: stream }), lines };
}
