/**
 * The bridge's client towards the remote broker: the options of each connection
 * attempt, as Mosquitto's `connection` block sets them, and how it is ended.
 */
import type { ConnectionOptions } from 'node:tls';
import type { MqttClient } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import type { BridgeAddress, BridgeConfig } from '../config/types.js';
import type { ProtocolVersion } from '../protocol/constants.js';

const VERSIONS: Record<BridgeConfig['protocolVersion'], ProtocolVersion> = {
  mqttv31: 3,
  mqttv311: 4,
  mqttv50: 5,
};

/** QoS 1/2 publishes the client may hold (in flight + waiting) before the bridge queue takes over. */
export const CLIENT_WINDOW = 100;

/** The notification payload of a bridge that is down (the will the remote publishes for us). */
export const NOTIFY_DOWN = Buffer.from('0');

/** What one connection attempt depends on besides the configuration. */
export interface AttemptSettings {
  version: ProtocolVersion;
  tls: ConnectionOptions | undefined;
  /** Announce the bridge (try_private), unless the remote refused that before. */
  tryPrivate: boolean;
  connectTimeout: number;
  /** The local broker's max_inflight_messages (0: unlimited). */
  maxInflightMessages: number;
}

/** The MQTT version a `bridge_protocol_version` names. */
export function bridgeProtocolVersion(cfg: BridgeConfig): ProtocolVersion {
  return VERSIONS[cfg.protocolVersion];
}

/** Client options for one connection attempt to `addr`. */
export function remoteClientOptions(
  cfg: BridgeConfig,
  addr: BridgeAddress,
  s: AttemptSettings,
): ClientOptions {
  const opts: ClientOptions = {
    scheme: s.tls !== undefined ? 'mqtts' : 'mqtt',
    host: addr.host,
    port: addr.port,
    protocolVersion: s.version,
    clientId: cfg.clientId,
    clean: cfg.cleanSession,
    keepalive: cfg.keepalive,
    reconnect: false,
    resubscribe: false,
    connectTimeout: s.connectTimeout,
    // Over MQTT 3.1.1 the remote cannot announce a Receive Maximum: keep to this
    // broker's max_inflight_messages, as Mosquitto's bridges do (mosquitto takes
    // about 20 unacknowledged QoS 2 messages from a v3 client and drops the rest).
    maxInflight: Math.min(CLIENT_WINDOW, s.maxInflightMessages || CLIENT_WINDOW),
    bridge: s.tryPrivate,
  };
  if (cfg.username !== undefined) opts.username = cfg.username;
  if (cfg.password !== undefined) opts.password = cfg.password;
  if (s.tls !== undefined) opts.tls = s.tls;
  if (cfg.bindAddress !== undefined) opts.localAddress = cfg.bindAddress;
  // The remote publishes "0" for us when the connection is lost (Mosquitto's bridge will).
  if (cfg.notifications && !cfg.notificationsLocalOnly)
    opts.will = { topic: cfg.notificationTopic, payload: NOTIFY_DOWN, qos: 1, retain: true };
  // A v5 session lasts only as long as the connection unless an expiry is asked for.
  if (s.version === 5 && !cfg.cleanSession) opts.properties = { sessionExpiryInterval: 0xffffffff };
  return opts;
}

/** Ends a client cleanly, or drops it if the remote does not close within `ms`. */
export function endWithin(c: MqttClient, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      c.destroy();
      resolve();
    }, ms);
    c.end().then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}
