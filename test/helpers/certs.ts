import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files generated with the openssl CLI for one test run. */
export interface TestCerts {
  dir: string;
  /** Paths. */
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** Contents. */
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  /** A second server certificate from the same CA (CN heron-2), for reload tests. */
  serverCert2: Buffer;
  serverKey2: Buffer;
  /** Client certificate CN=alice signed by the test CA. */
  clientCert: Buffer;
  clientKey: Buffer;
  /** Client certificate CN=mallory signed by a CA the broker does not trust. */
  rogueCert: Buffer;
  rogueKey: Buffer;
  rogueCertFile: string;
  rogueKeyFile: string;
  cleanup(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
}

async function makeLeaf(
  dir: string,
  ca: string,
  name: string,
  cn: string,
  ext: string,
): Promise<void> {
  await openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/O=Heron Test/CN=${cn}`,
  ]);
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

const SERVER_EXT =
  'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n';

/** Generates a CA, two server certificates, a client certificate and one from an untrusted CA. */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'heron-certs-'));
  await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'rogue-ca')]);
  await makeLeaf(dir, 'ca', 'server', 'heron', SERVER_EXT);
  await makeLeaf(dir, 'ca', 'server2', 'heron-2', SERVER_EXT);
  await makeLeaf(dir, 'ca', 'client', 'alice', CLIENT_EXT);
  await makeLeaf(dir, 'rogue-ca', 'rogue', 'mallory', CLIENT_EXT);
  const f = (n: string) => join(dir, n);
  const r = (n: string) => readFile(f(n));
  return {
    dir,
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    rogueCertFile: f('rogue.crt'),
    rogueKeyFile: f('rogue.key'),
    ca: await r('ca.crt'),
    serverCert: await r('server.crt'),
    serverKey: await r('server.key'),
    serverCert2: await r('server2.crt'),
    serverKey2: await r('server2.key'),
    clientCert: await r('client.crt'),
    clientKey: await r('client.key'),
    rogueCert: await r('rogue.crt'),
    rogueKey: await r('rogue.key'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
