/**
 * A RejectionLog that counts every rejection in precall_messages_rejected_total before keeping
 * it. The broker (auth, acl, packet) and ingest record through the same instance, so every
 * refusal is counted once, with the same labels.
 */
import type { IngestMetrics } from '../metrics.js';
import type { Rejection, RejectionLog } from '../rejections/rejection.js';

export function countingRejectionLog(inner: RejectionLog, metrics: Pick<IngestMetrics, 'rejected'>, kindOf: (deviceId: string) => string | undefined): RejectionLog {
  return {
    record(rejection: Rejection): void {
      const kind = rejection.kind ?? (rejection.deviceId !== undefined ? kindOf(rejection.deviceId) : undefined) ?? 'unknown';
      metrics.rejected.labels(rejection.stage, rejection.reason, kind).inc();
      inner.record(rejection);
    },
  };
}
