/** Turns a parsed client-tool command line into MQTT client options. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { ClientOptions } from '../client/options.js';
import type { ClientToolConfig } from './client-args.js';

function readCaPath(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((f) => /\.(pem|crt)$/.test(f))
    .map((f) => readFileSync(join(dir, f)));
}

/** Client options for a parsed command line (reads TLS files). */
export function clientOptionsFor(
  cfg: ClientToolConfig,
  trace?: ClientOptions['trace'],
): ClientOptions {
  const v5 = cfg.protocolVersion === 5;
  let clientId = cfg.clientId ?? '';
  if (cfg.clientId === undefined && cfg.idPrefix !== undefined)
    clientId = `${cfg.idPrefix}${process.pid}`;
  let tls: ConnectionOptions | undefined;
  if (cfg.scheme === 'mqtts' || cfg.scheme === 'wss') {
    tls = {};
    const ca: Buffer[] = [];
    if (cfg.tls.cafile) ca.push(readFileSync(cfg.tls.cafile));
    if (cfg.tls.capath) ca.push(...readCaPath(cfg.tls.capath));
    if (ca.length > 0) tls.ca = ca;
    if (cfg.tls.cert) tls.cert = readFileSync(cfg.tls.cert);
    if (cfg.tls.key) tls.key = readFileSync(cfg.tls.key);
    // Like mosquitto's --insecure: the chain is still verified, the host name is not.
    if (cfg.tls.insecure) tls.checkServerIdentity = () => undefined;
  }
  let properties = cfg.properties.connect;
  if (v5) {
    const expiry = cfg.sessionExpiry ?? (cfg.clean ? undefined : 0xffffffff);
    if (expiry !== undefined && expiry > 0) {
      properties = { ...properties, sessionExpiryInterval: expiry };
    }
  }
  return {
    scheme: cfg.scheme,
    host: cfg.host,
    port: cfg.port,
    path: cfg.wsPath,
    protocolVersion: cfg.protocolVersion,
    clientId,
    clean: cfg.clean,
    keepalive: cfg.keepalive,
    username: cfg.username,
    password: cfg.password,
    will:
      cfg.will.topic === undefined
        ? undefined
        : {
            topic: cfg.will.topic,
            payload: cfg.will.payload ?? '',
            qos: cfg.will.qos,
            retain: cfg.will.retain,
            properties: cfg.properties.will,
          },
    properties,
    tls,
    maxInflight: cfg.maxInflight,
    reconnect: false,
    trace,
  };
}
