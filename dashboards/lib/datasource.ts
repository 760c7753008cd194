/**
 * The one data source every panel and variable queries: the InfluxDB data source provisioned by
 * dashboards/provisioning/datasources/influxdb.yaml under this fixed uid, so the built JSON
 * resolves it on any Grafana without an import step.
 */
import type { DataSourceRef } from '@grafana/schema';

/** uid of the provisioned InfluxDB (InfluxQL) data source. */
export const DATASOURCE_UID = 'precall-influxdb';

export const datasource: DataSourceRef = { type: 'influxdb', uid: DATASOURCE_UID };
