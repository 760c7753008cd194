/**
 * Health of the components behind the API. Each component contributes a check; `/health`
 * answers 200 when all are healthy and 503 otherwise, with each status in words.
 */
export interface ComponentHealth {
  healthy: boolean;
  /** One sentence: "listening on :1883, 12 clients", "InfluxDB unreachable since 10:02: ECONNREFUSED". */
  status: string;
  /** Numbers worth graphing or alerting on (backlog size, oldest age ms, ...). */
  details?: Record<string, string | number | boolean | null>;
}

export interface HealthCheck {
  /** Component name: broker, influx, outbox, ... */
  name: string;
  check(): ComponentHealth;
}

export interface HealthReport {
  healthy: boolean;
  summary: string;
  components: ({ name: string } & ComponentHealth)[];
}

/** Run every check; a check that throws is reported unhealthy with its error (never a 500). */
export function runHealthChecks(checks: readonly HealthCheck[]): HealthReport {
  const components = checks.map((c) => {
    try {
      return { name: c.name, ...c.check() };
    } catch (err) {
      return { name: c.name, healthy: false, status: `health check failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  });
  const sick = components.filter((c) => !c.healthy);
  const summary = sick.length === 0 ? 'all components healthy' : `unhealthy: ${sick.map((c) => `${c.name} (${c.status})`).join('; ')}`;
  return { healthy: sick.length === 0, summary, components };
}
