// Polls until `f` returns something truthy (errors count as "not yet"); on timeout throws the last
// error or a timeout error. Tests wait on state, never on fixed sleeps. The default budget is far
// above what any wait needs on an idle machine: it only bounds how long a broken test hangs.
export async function waitFor<T>(
  f: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw last instanceof Error ? last : new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
