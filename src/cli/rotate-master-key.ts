import { loadConfig } from '../config.ts';
import { createDatabase } from '../platform/db.ts';
import { ProvisioningRepository } from '../provisioning/repository.ts';
import { Keyring } from '../provisioning/sealed.ts';

export const usage = `usage: capconduit rotate-master-key

Re-seals every stored secret (carrier credentials, subaccount secrets, webhook secrets) under
MASTER_KEY in one transaction, opening each with MASTER_KEY or a key in MASTER_KEY_PREVIOUS, then
checks that every one opens under MASTER_KEY alone. Rotation: set MASTER_KEY to the new key and
MASTER_KEY_PREVIOUS to the old one, restart, run this, then remove MASTER_KEY_PREVIOUS.
`;

/**
 * `capconduit rotate-master-key`: re-seals every stored secret (carrier credentials, subaccount
 * secrets, webhook secrets) under MASTER_KEY, opening each with MASTER_KEY or a key listed in
 * MASTER_KEY_PREVIOUS, in one transaction; then checks that each opens under MASTER_KEY alone.
 */
export async function run(_argv: string[]): Promise<number> {
  const config = loadConfig();
  const keyring = new Keyring(config.masterKey, config.previousMasterKeys);
  const only = new Keyring(config.masterKey);
  const database = createDatabase(config.DATABASE_URL, { max: 2 });
  try {
    const repo = new ProvisioningRepository(database.db);
    const counts = await repo.resealAll((sealed, context) =>
      keyring.seal(keyring.open(sealed, context), context),
    );
    // Reading everything back under the new key alone proves nothing depends on an old one any more.
    let checked = 0;
    await repo.resealAll((sealed, context) => {
      only.open(sealed, context);
      checked++;
      return sealed;
    });
    process.stdout.write(
      `re-sealed under master key ${keyring.currentId}: ${counts.provider_accounts} provider account(s), ${counts.subaccounts} subaccount secret(s), ${counts.webhooks} webhook secret(s); ${checked} checked. MASTER_KEY_PREVIOUS can now be removed.\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
