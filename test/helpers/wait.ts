// Polls until `f` returns something truthy (errors count as "not yet"); on timeout throws the last
// error or a timeout error. Tests wait on state, never on fixed sleeps.
export async function waitFor<T>(
  f: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 20_000,
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
