import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions, SecureVersion } from 'node:tls';
import type { BridgeTlsConfig } from '../config/types.js';

const TLS_VERSIONS: Record<string, SecureVersion> = {
  'tlsv1.3': 'TLSv1.3',
  'tlsv1.2': 'TLSv1.2',
  'tlsv1.1': 'TLSv1.1',
};

/**
 * node:tls client options for a bridge's bridge_cafile / bridge_capath /
 * bridge_certfile / bridge_keyfile / bridge_insecure / bridge_tls_version /
 * bridge_alpn. Files are read once, when the bridge starts.
 */
export function bridgeTlsOptions(t: BridgeTlsConfig): ConnectionOptions {
  const ca: Buffer[] = [];
  if (t.cafile !== undefined) ca.push(readFileSync(t.cafile));
  if (t.capath !== undefined) {
    for (const name of readdirSync(t.capath)) {
      if (/\.(pem|crt)$/i.test(name)) ca.push(readFileSync(join(t.capath, name)));
    }
  }
  const o: ConnectionOptions = { rejectUnauthorized: true };
  if (ca.length > 0) o.ca = ca;
  if (t.certfile !== undefined) o.cert = readFileSync(t.certfile);
  if (t.keyfile !== undefined) o.key = readFileSync(t.keyfile);
  // bridge_insecure skips the host name check only; the chain is still verified, as in Mosquitto.
  if (t.insecure) o.checkServerIdentity = () => undefined;
  const v = TLS_VERSIONS[t.tlsVersion];
  if (v !== undefined) o.minVersion = v;
  if (t.alpn !== undefined) o.ALPNProtocols = [t.alpn];
  return o;
}
