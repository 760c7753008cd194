import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILD_DIR, renderDashboards } from '../../../dashboards/index.js';

describe('committed dashboards/build', () => {
  const fresh = renderDashboards();

  it('holds exactly the dashboards the sources define', () => {
    const committed = readdirSync(BUILD_DIR).filter((f) => f.endsWith('.json')).sort();
    expect(committed, 'run `npm run dashboards` and commit dashboards/build').toEqual([...fresh.keys()].sort());
  });

  it.each([...fresh.keys()])('%s equals a fresh build (stale: run `npm run dashboards`)', (name) => {
    const file = BUILD_DIR + name;
    expect(existsSync(file), `${file} missing: run \`npm run dashboards\``).toBe(true);
    expect(readFileSync(file, 'utf8'), `${name} is stale: run \`npm run dashboards\` and commit the result`).toBe(fresh.get(name));
  });
});
