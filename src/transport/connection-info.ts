/** What a transport tells the broker about a new connection (peer address, listener, TLS identity). */
import type tls from 'node:tls';
import type { TransportListenerOptions } from './listener-options.js';

/**
 * Connection facts a transport hands to the broker with each new byte stream.
 * `Security` is the listener's own security block (see ConnectionAcceptor).
 */
export interface ConnectionInfo<Security = unknown> {
  remoteAddress: string;
  remotePort: number;
  /** Listener name, e.g. "tcp:1883". */
  listener: string;
  /** Topic prefix of the listener (Mosquitto's mount_point). */
  mountPoint?: string | undefined;
  /** TLS client certificate subject or identity, used as user name where configured. */
  certificateSubject?: string | undefined;
  /** Use the certificate identity as the user name (use_identity_as_username). */
  certificateAsUsername?: boolean | undefined;
  /** The listener's own security block, if it has one (must be one of the broker's listeners'). */
  security?: Security | undefined;
}

/**
 * TLS peer identity: the certificate's CN, or its whole subject when asked for.
 * Only a certificate that verified against the listener's CAs counts (with
 * `rejectUnauthorized: false` an unverified one could claim any name).
 */
function certificateIdentity(socket: tls.TLSSocket, wholeSubject: boolean): string | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (cert === null || cert === undefined || cert.subject === undefined) return undefined;
  if (wholeSubject) {
    return Object.entries(cert.subject)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
      .join(',');
  }
  const cn = cert.subject.CN;
  if (cn === undefined) return undefined;
  return Array.isArray(cn) ? cn[0] : cn;
}

/** The name a listener goes by in logs and ClientInfo.listener, e.g. "mqtt:1883". */
export function listenerName(options: TransportListenerOptions): string {
  if (options.name !== undefined) return options.name;
  const secure = options.tls !== undefined;
  const kind =
    options.protocol === 'websockets' ? (secure ? 'wss' : 'ws') : secure ? 'mqtts' : 'mqtt';
  return `${kind}:${options.port}`;
}

/**
 * The ConnectionInfo for a connection accepted on a listener; `tlsSocket` is the
 * TLS socket on secure listeners (its certificate may name the user), else undefined.
 */
export function connectionInfo<Security>(
  name: string,
  options: TransportListenerOptions<Security>,
  tlsSocket: tls.TLSSocket | undefined,
  remoteAddress: string,
  remotePort: number,
): ConnectionInfo<Security> {
  return {
    remoteAddress,
    remotePort,
    listener: name,
    mountPoint: options.mountPoint,
    certificateSubject:
      tlsSocket === undefined
        ? undefined
        : certificateIdentity(tlsSocket, options.certificateUsername === 'subject'),
    certificateAsUsername: options.certificateUsername !== undefined,
    security: options.security,
  };
}
