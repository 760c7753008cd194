#!/bin/bash
# Runs once, when the influxdb:2.x container initialises (DOCKER_INFLUXDB_INIT_MODE=setup).
# Maps the v1 database name to the initial bucket so InfluxQL queries (Grafana's data source,
# precall's history reads) address the bucket by its name: InfluxDB 2.x answers /query only
# through such DBRP mappings. The entrypoint exports DOCKER_INFLUXDB_INIT_BUCKET_ID here and has
# configured the influx CLI with the admin token.
set -euo pipefail

influx v1 dbrp create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --db "${DOCKER_INFLUXDB_INIT_BUCKET}" \
  --rp autogen \
  --default

echo "precall: InfluxQL database \"${DOCKER_INFLUXDB_INIT_BUCKET}\" (rp autogen) mapped to bucket ${DOCKER_INFLUXDB_INIT_BUCKET_ID}"
