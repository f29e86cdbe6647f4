// What the benchmarks share: a database of their own on the server they are given, a daemon they
// spawned waited for, and that process's memory read from /proc.
import { readFileSync } from 'node:fs';

/** The URL of database `name` on the server of `url`. */
export const withDb = (url: string, name: string) =>
  Object.assign(new URL(url), { pathname: `/${name}` }).toString();

/** Waits for a spawned daemon's `/ready`, asked every 100 ms, at most about `tries` times. */
export async function daemonReady(base: string, tries: number): Promise<void> {
  for (let i = 0; ; i++) {
    const ok = await fetch(`${base}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (i > tries) throw new Error('daemon not ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A process's resident memory in MB (VmRSS). */
export const rssMb = (pid: number | undefined) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
