import type { HeronConfig, ListenerConfig, SecurityConfig } from './types.js';

/** The security settings that govern clients of this listener. */
export function listenerSecurity(config: HeronConfig, listener: ListenerConfig): SecurityConfig {
  return listener.security ?? config.security;
}

/** One line describing a listener for startup logs, e.g. "mqtts on 0.0.0.0:8883 (mount point site1/)". */
export function listenerSummary(l: ListenerConfig): string {
  const scheme = l.protocol === 'websockets' ? (l.tls ? 'wss' : 'ws') : l.tls ? 'mqtts' : 'mqtt';
  let where: string;
  if (l.unixSocketPath !== undefined) {
    where = `unix:${l.unixSocketPath}`;
  } else {
    const host =
      l.bindAddress ??
      (l.socketDomain === 'ipv6' ? '::' : l.socketDomain === 'ipv4' ? '0.0.0.0' : '*');
    where = `${host.includes(':') ? `[${host}]` : host}:${l.port}`;
  }
  const notes: string[] = [];
  if (l.protocol === 'websockets')
    notes.push(`path ${l.websocketsPath}${l.websocketsStrictPath ? ' only' : ''}`);
  if (l.bindInterface !== undefined) notes.push(`interface ${l.bindInterface}`);
  if (l.mountPoint !== undefined) notes.push(`mount point ${l.mountPoint}`);
  if (l.proxyProtocol) notes.push('PROXY protocol');
  if (l.tls?.requireCertificate) notes.push('client certificates required');
  if (l.maxConnections >= 0) notes.push(`max ${l.maxConnections} connections`);
  if (l.origin === 'local-only') notes.push('local only');
  if (l.origin === 'default') notes.push('default listener');
  return `${scheme} on ${where}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
}
