/**
 * Test certificates made with Debian's openssl in a temporary directory: a CA, a server
 * certificate for 127.0.0.1/localhost signed by it, client certificates with a chosen CN, and a
 * second, unrelated CA (the "wrong" one).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function openssl(dir: string, ...args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed (is Debian's openssl installed?): ${(err as Error).message}`);
  }
}

export interface TestCa {
  dir: string;
  /** PEM files, absolute paths. */
  cert: string;
  key: string;
  /** A certificate and key signed by this CA. */
  issue(name: string, cn: string, opts?: { server?: boolean }): Promise<{ cert: string; key: string }>;
}

export async function makeCa(name = 'test-ca', dir = mkdtempSync(join(tmpdir(), 'precall-certs-'))): Promise<TestCa> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  await openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`);
  return {
    dir,
    cert,
    key,
    async issue(file, cn, opts = {}) {
      const k = join(dir, `${file}.key`);
      const csr = join(dir, `${file}.csr`);
      const c = join(dir, `${file}.pem`);
      const ext = join(dir, `${file}.ext`);
      writeFileSync(ext, opts.server === true ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
      await openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', k, '-out', csr, '-subj', `/CN=${cn}`);
      await openssl(dir, 'x509', '-req', '-in', csr, '-CA', cert, '-CAkey', key, '-CAcreateserial', '-out', c, '-days', '2', '-extfile', ext);
      return { cert: c, key: k };
    },
  };
}
