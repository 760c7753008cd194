/**
 * What the parts of the work-order component share: the store, the settings, the fleet, the
 * language, the clock, the logger and the metrics. Built once by component.ts.
 */
import type { Logger } from 'pino';
import type { Lang } from '../i18n/catalogue.js';
import type { Registry } from '../registry/registry.js';
import type { WorkOrderMetrics } from './metrics.js';
import type { WorkOrderSettings } from './settings.js';
import type { WorkOrderStore } from './store.js';

export interface WorkOrderContext {
  readonly store: WorkOrderStore;
  readonly settings: WorkOrderSettings;
  readonly registry: Registry;
  readonly lang: Lang;
  /** Epoch ms; the simulated one in the demo. */
  readonly clock: () => number;
  readonly log: Logger;
  /** None when the component was given no prom-client registry. */
  readonly metrics: WorkOrderMetrics | undefined;
}
