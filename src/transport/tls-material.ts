/** Certificate material named by Mosquitto-style TLS options, shared by listeners and bridges. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import type { TlsVersion } from '../config/types.js';

/**
 * The CA certificates of a `cafile` and every .pem/.crt file of a `capath`
 * directory, read with `read` (so callers choose how a missing file is reported).
 */
export function readCaBundle(
  cafile: string | undefined,
  capath: string | undefined,
  read: (path: string, option: 'cafile' | 'capath') => Buffer,
): Buffer[] {
  const ca: Buffer[] = [];
  if (cafile !== undefined) ca.push(read(cafile, 'cafile'));
  if (capath !== undefined) {
    for (const name of readdirSync(capath)) {
      if (/\.(pem|crt)$/i.test(name)) ca.push(read(join(capath, name), 'capath'));
    }
  }
  return ca;
}

/** node:tls's name for a `tls_version` / `bridge_tls_version` value. */
export function secureVersion(v: TlsVersion): SecureVersion {
  return v === 'tlsv1.3' ? 'TLSv1.3' : v === 'tlsv1.2' ? 'TLSv1.2' : 'TLSv1.1';
}
