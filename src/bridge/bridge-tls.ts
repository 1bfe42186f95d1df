import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { BridgeTlsConfig } from '../config/types.js';
import { readCaBundle, secureVersion } from '../transport/tls-material.js';

/**
 * node:tls client options for a bridge's bridge_cafile / bridge_capath /
 * bridge_certfile / bridge_keyfile / bridge_insecure / bridge_tls_version /
 * bridge_alpn. Files are read once, when the bridge starts.
 */
export function bridgeTlsOptions(t: BridgeTlsConfig): ConnectionOptions {
  const ca = readCaBundle(t.cafile, t.capath, (path) => readFileSync(path));
  const o: ConnectionOptions = { rejectUnauthorized: true };
  if (ca.length > 0) o.ca = ca;
  if (t.certfile !== undefined) o.cert = readFileSync(t.certfile);
  if (t.keyfile !== undefined) o.key = readFileSync(t.keyfile);
  // bridge_insecure skips the host name check only; the chain is still verified, as in Mosquitto.
  if (t.insecure) o.checkServerIdentity = () => undefined;
  o.minVersion = secureVersion(t.tlsVersion);
  if (t.alpn !== undefined) o.ALPNProtocols = [t.alpn];
  return o;
}
