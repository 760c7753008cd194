/**
 * `npm run dashboards`: build every dashboard to dashboards/build/*.json (committed, so Grafana
 * provisioning works from a plain checkout) and delete stale files there.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { BUILD_DIR, renderDashboards } from './index.js';

const files = renderDashboards();
mkdirSync(BUILD_DIR, { recursive: true });
for (const name of readdirSync(BUILD_DIR)) {
  if (name.endsWith('.json') && !files.has(name)) rmSync(BUILD_DIR + name);
}
for (const [name, text] of files) writeFileSync(BUILD_DIR + name, text);
console.log(`dashboards: wrote ${files.size} dashboards to ${BUILD_DIR}`);
