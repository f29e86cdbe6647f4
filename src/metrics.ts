import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per daemon (not prom-client's global), so tests can build several apps. */
export function createMetrics(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'capconduit' });
  collectDefaultMetrics({ register: registry });
  return registry;
}
