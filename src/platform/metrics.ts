import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per daemon (not prom-client's global), so tests can build several apps. */
/** `app`: the Stasis app this instance registers (capconduit-<id> with several instances on a node). */
export function createMetrics(labels: { app: string; instance?: string } = { app: 'capconduit' }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(
    labels.instance ? { app: labels.app, instance_id: labels.instance } : { app: labels.app },
  );
  collectDefaultMetrics({ register: registry });
  return registry;
}
