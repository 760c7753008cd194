import { describe, expect, it } from 'vitest';
import { ApiKeys, ApiKeysFile, hashApiKey } from '../../../src/api/auth.js';

describe('the API keys file', () => {
  it('reads `keys:` left empty as no keys, and refuses a key without a hash', () => {
    expect(ApiKeysFile.parse({ keys: null }).keys).toEqual([]);
    expect(ApiKeysFile.parse({}).keys).toEqual([]);
    expect(ApiKeysFile.safeParse({ keys: [{ id: 'x', role: 'viewer' }] }).success).toBe(false);
  });

  it('replacing the file keys keeps the fixed ones (API_ADMIN_KEY, a run key)', () => {
    const keys = ApiKeys.load(undefined, 'a'.repeat(20));
    keys.replaceFileKeys([{ id: 'screen', role: 'viewer', hash: hashApiKey('pc_screen') }]);
    expect(keys.verify('pc_screen')?.id).toBe('screen');
    expect(keys.verify('a'.repeat(20))?.role).toBe('admin');
    keys.replaceFileKeys([]);
    expect(keys.verify('pc_screen')).toBeUndefined();
    expect(keys.verify('a'.repeat(20))?.role).toBe('admin');
  });
});
