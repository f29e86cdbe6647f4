// Errors a command throws for the registry (index.ts) to print as one line. Kept apart from the
// registry so no command imports it: the registry imports the commands, never the reverse.

/** A mistake in the command line: printed with a pointer to `--help`, exit status 2. */
export class UsageError extends Error {}

/** A port another process holds: one line naming the port and what sets it, exit status 1. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly setting: string,
  ) {
    super(`port ${port} is already in use: choose another with ${setting}`);
  }
}
