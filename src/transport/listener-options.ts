/** The options of one network listener, as transports read them. */
import type tls from 'node:tls';

/**
 * One network listener. `Security` is the type of its own authentication and
 * ACL block, which only the broker reads (transports pass it on untouched).
 */
export interface TransportListenerOptions<Security = unknown> {
  /** TCP port; 0 picks a free one (see `broker.addresses()`). */
  port: number;
  /** Address to bind; default all interfaces for embedded use. */
  host?: string;
  /** 'mqtt' (raw TCP, default) or 'websockets'. */
  protocol?: 'mqtt' | 'websockets';
  /** TLS options for node:tls createServer; when present the listener speaks TLS. */
  tls?: tls.TlsOptions;
  /** Accept a PROXY protocol v1/v2 header before MQTT. */
  proxyProtocol?: boolean;
  /** Refuse connections past this many on the listener (-1 or undefined: unlimited). */
  maxConnections?: number;
  /** Prefix added to every topic of clients on this listener (Mosquitto's mount_point). */
  mountPoint?: string;
  /** WebSocket path to accept; undefined accepts any path, like Mosquitto. */
  websocketsPath?: string;
  /** Name shown in logs and ClientInfo.listener. */
  name?: string;
  /** Take the user name from the TLS client certificate: its CN ('cn') or whole subject ('subject'). */
  certificateUsername?: 'cn' | 'subject';
  /** Bind an IPv6 address without also accepting IPv4 (socket_domain ipv6). */
  ipv6Only?: boolean;
  /** Authentication and ACL for this listener's clients, overriding the broker-level options. */
  security?: Security;
}

/** Where a listener ended up bound. */
export interface ListenerAddress {
  name: string;
  protocol: string;
  host: string;
  port: number;
}
