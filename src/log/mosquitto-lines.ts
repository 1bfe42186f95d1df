/**
 * The broker's log lines for the events people grep, worded as Mosquitto 2.0 words
 * them (see test/log/fixtures/mosquitto-2.0.11-lines.json): log parsers and
 * fail2ban-style rules written for Mosquitto keep matching. The broker's call
 * sites only choose the event; the text lives here.
 */
import { PacketType } from '../protocol/constants.js';
import type { Packet, PublishPacket, Will } from '../protocol/packets.js';

/** What Mosquitto prints for a client not identified yet (refused, or closed before CONNECT). */
const UNKNOWN_CLIENT = '<unknown>';

/** Mosquitto's number for a protocol version: 1 for 3.1, 2 for 3.1.1, 5 for 5.0. */
function protocolNumber(version: number): number {
  if (version === 3) return 1;
  if (version === 4) return 2;
  return version;
}

/** A TCP connection was accepted: `New connection from 127.0.0.1:38044 on port 1883.` */
export function newConnectionLine(
  address: string,
  port: number,
  listenerPort: number | string,
): string {
  return `New connection from ${address}:${port} on port ${listenerPort}.`;
}

/** What a CONNECT carried, for {@link clientConnectedLine}. */
export interface ConnectedClient {
  address: string;
  port: number;
  clientId: string;
  protocolVersion: number;
  /** Clean start / clean session flag. */
  clean: boolean;
  keepalive: number;
  username: string | undefined;
  /** A bridge connecting in (Heron's own bridges say so). */
  bridge?: boolean;
}

/** `New client connected from 127.0.0.1:38044 as alice-1 (p2, c1, k60, u'alice').` */
export function clientConnectedLine(c: ConnectedClient): string {
  const user = c.username === undefined ? '' : `, u'${c.username}'`;
  return `New ${c.bridge ? 'bridge' : 'client'} connected from ${c.address}:${c.port} as ${c.clientId} (p${protocolNumber(c.protocolVersion)}, c${c.clean ? 1 : 0}, k${c.keepalive}${user}).`;
}

/**
 * `No will message specified.`, or `Will message specified (3 bytes) (r1, q1).` followed
 * by a line with the will topic after a tab (each line gets its own timestamp).
 */
export function willLines(will: Will | undefined): string {
  if (will === undefined) return 'No will message specified.';
  return `Will message specified (${will.payload.length} bytes) (r${will.retain ? 1 : 0}, q${will.qos}).\n\t${will.topic}`;
}

/** Follows a refused CONNECT: `Client <unknown> disconnected, not authorised.` */
function notAuthorisedLine(): string {
  return `Client ${UNKNOWN_CLIENT} disconnected, not authorised.`;
}

/** A PUBLISH the ACL (or a hook) refused: `Denied PUBLISH from alice (d0, q1, r0, m1, 'topic', ... (2 bytes))`. */
export function deniedPublishLine(clientId: string, p: PublishPacket): string {
  return `Denied PUBLISH from ${clientId} ${publishDetails(p.dup, p.qos, p.retain, p.packetId, p.topic, p.payload.length)}`;
}

/** `(d0, q1, r0, m1, 'topic', ... (2 bytes))`, the way Mosquitto describes a PUBLISH. */
export function publishDetails(
  dup: boolean,
  qos: number,
  retain: boolean,
  packetId: number,
  topic: string,
  bytes: number,
): string {
  return `(d${dup ? 1 : 0}, q${qos}, r${retain ? 1 : 0}, m${packetId}, '${topic}', ... (${bytes} bytes))`;
}

/**
 * The line for a connected client's connection ending, by Heron's close reason (the
 * reason string the `clientDisconnected` event carries):
 * `Client X disconnected.` after a DISCONNECT, `Client X closed its connection.` when the
 * socket closed without one, `Client X already connected, closing old connection.` on a
 * takeover, `Client X has exceeded timeout, disconnecting.` on keep alive expiry.
 */
export function clientGoneLine(clientId: string, reason: string): string {
  const id = clientId === '' ? UNKNOWN_CLIENT : clientId;
  switch (reason) {
    case 'client disconnected':
      return `Client ${id} disconnected.`;
    case 'connection closed':
      return `Client ${id} closed its connection.`;
    case 'session taken over':
      return `Client ${id} already connected, closing old connection.`;
    case 'keep alive timeout':
      return `Client ${id} has exceeded timeout, disconnecting.`;
    default:
      break;
  }
  if (/^socket error: .*(ECONNRESET|EPIPE)/.test(reason)) {
    return `Client ${id} closed its connection.`;
  }
  if (reason.startsWith('protocol error')) {
    return `Client ${id} disconnected due to protocol error.`;
  }
  return `Client ${id} disconnected: ${reason}.`;
}

/** A connection closed for a protocol violation before or after CONNECT. */
export function protocolErrorLine(clientId: string): string {
  return `Client ${clientId === '' ? UNKNOWN_CLIENT : clientId} disconnected due to protocol error.`;
}

/** A connection closed before it sent CONNECT. */
export function closedBeforeConnectLine(): string {
  return `Client ${UNKNOWN_CLIENT} closed its connection.`;
}

/** `Opening ipv4 listen socket on port 1883.` (`ipv6`, `websockets`; `unix` names its path). */
function openingListenerLine(
  kind: 'ipv4' | 'ipv6' | 'websockets' | 'unix',
  portOrPath: number | string,
): string {
  return kind === 'unix'
    ? `Opening unix listen socket on path ${portOrPath}.`
    : `Opening ${kind} listen socket on port ${portOrPath}.`;
}

/**
 * The lines for one opened listener: `Opening ipv4 listen socket on port 1883.`; a
 * listener on every address (`::`) serves both families and, as in Mosquitto, gets an
 * ipv4 and an ipv6 line; WebSocket listeners say `websockets`.
 */
export function listenerOpenedLines(protocol: string, host: string, port: number): string {
  if (protocol === 'ws' || protocol === 'wss') return openingListenerLine('websockets', port);
  if (host === '::') {
    return `${openingListenerLine('ipv4', port)}\n${openingListenerLine('ipv6', port)}`;
  }
  return openingListenerLine(host.includes(':') ? 'ipv6' : 'ipv4', port);
}

/** The port of a listener from its log name ("mqtt:1883"), for the New connection line. */
export function listenerPort(listener: string): string {
  return /:(\d+)$/.exec(listener)?.[1] ?? listener;
}

/** Who a sent packet is logged for: a refused CONNACK names the address, as Mosquitto's does. */
export function recipientName(p: Packet, clientId: string, address: string): string {
  return p.type === PacketType.CONNACK && p.reasonCode !== 0 ? address : clientId;
}

/** CONNACK codes that mean "who you are was not accepted" (3.1.1: 4, 5; v5: 0x86, 0x87). */
const NOT_AUTHORISED = new Set([4, 5, 0x86, 0x87]);

/** The line after a refused CONNECT: `Client <unknown> disconnected, not authorised.` for credentials. */
export function refusedLine(code: number, why: string): string {
  return NOT_AUTHORISED.has(code)
    ? notAuthorisedLine()
    : `Client ${UNKNOWN_CLIENT} disconnected: ${why}.`;
}

/** `heron version 1.2.3 starting` / `running` / `terminating`. */
export function lifecycleLine(
  version: string,
  phase: 'starting' | 'running' | 'terminating',
): string {
  return `heron version ${version} ${phase}`;
}

/**
 * Lines for SUBSCRIBE and UNSUBSCRIBE that Mosquitto logs per filter after the
 * "Received" line: `\thome/# (QoS 1)` then `alice 1 home/#`; `\thome/#` then `alice home/#`.
 * Undefined for other packets.
 */
export function filterLines(clientId: string, p: Packet): string | undefined {
  if (p.type === PacketType.SUBSCRIBE) {
    return p.subscriptions
      .map((s) => `\t${s.topic} (QoS ${s.qos})\n${clientId} ${s.qos} ${s.topic}`)
      .join('\n');
  }
  if (p.type === PacketType.UNSUBSCRIBE) {
    return p.topics.map((t) => `\t${t}\n${clientId} ${t}`).join('\n');
  }
  return undefined;
}
