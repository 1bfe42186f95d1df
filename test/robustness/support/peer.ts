// A hostile-capable MQTT peer over any byte stream (TCP, TLS): sends packets or
// raw bytes, acknowledges what it is sent (unless told not to), and records how
// the broker ended the connection.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { PacketType, type ProtocolVersion } from '../../../src/protocol/constants.js';
import { Decoder } from '../../../src/protocol/decoder.js';
import { encode } from '../../../src/protocol/encoder.js';
import type { ConnectPacket, Packet } from '../../../src/protocol/packets.js';

/** A connection under test control; never throws from socket events. */
export class Peer {
  readonly socket: Duplex;
  readonly decoder: Decoder;
  readonly packets: Packet[] = [];
  /** Acknowledge QoS 1/2 deliveries and PUBRELs automatically. */
  autoAck = true;
  closed = false;
  /** The v5 DISCONNECT reason code the broker sent, if any. */
  disconnectCode: number | undefined;
  /** Set when the broker sent bytes our decoder could not parse. */
  undecodable = false;
  private waiters: Array<() => void> = [];

  constructor(socket: Duplex, version: ProtocolVersion = 4) {
    this.socket = socket;
    this.decoder = new Decoder(this, { protocolVersion: version });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.feed(chunk);
      } catch {
        this.undecodable = true;
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Opens a TCP connection to the broker on loopback. */
  static tcp(port: number, version: ProtocolVersion = 4): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Peer(s, version)));
      s.once('error', reject);
    });
  }

  get version(): ProtocolVersion {
    return this.decoder.protocolVersion;
  }

  /** Decoder callback. */
  onPacket(p: Packet): void {
    this.packets.push(p);
    if (p.type === PacketType.DISCONNECT) this.disconnectCode = p.reasonCode;
    if (this.autoAck) {
      if (p.type === PacketType.PUBLISH && p.qos === 1)
        this.send({ type: PacketType.PUBACK, packetId: p.packetId, reasonCode: 0 });
      else if (p.type === PacketType.PUBLISH && p.qos === 2)
        this.send({ type: PacketType.PUBREC, packetId: p.packetId, reasonCode: 0 });
      else if (p.type === PacketType.PUBREC)
        this.send({ type: PacketType.PUBREL, packetId: p.packetId, reasonCode: 0 });
      else if (p.type === PacketType.PUBREL)
        this.send({ type: PacketType.PUBCOMP, packetId: p.packetId, reasonCode: 0 });
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Sends a packet in this peer's version (ignored once closed). */
  send(p: Packet): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(encode(p, this.version));
  }

  /** Sends raw bytes (ignored once closed). */
  raw(b: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(b);
  }

  /** Resolves with the first packet matching `pred` (kept in `packets`), or undefined on close/timeout. */
  async waitFor(pred: (p: Packet) => boolean, ms = 3000): Promise<Packet | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.packets.find(pred);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (this.closed || left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves true once the broker has closed the connection, false after `ms`. */
  async waitClosed(ms = 3000): Promise<boolean> {
    await this.waitFor(() => false, ms);
    return this.closed;
  }

  /** Sends CONNECT and waits for CONNACK; returns its reason code (undefined if none came). */
  async connect(fields: Partial<ConnectPacket> = {}, ms = 3000): Promise<number | undefined> {
    this.send({
      type: PacketType.CONNECT,
      protocolName: this.version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: this.version,
      clean: true,
      keepalive: 60,
      clientId: '',
      ...fields,
    });
    const ack = await this.waitFor((p) => p.type === PacketType.CONNACK, ms);
    return ack?.type === PacketType.CONNACK ? ack.reasonCode : undefined;
  }

  /** Closes abruptly (no DISCONNECT). */
  destroy(): void {
    this.socket.destroy();
  }
}

/** Valid CONNECT bytes for `version`, for streams that must get past the handshake. */
export function connectBytes(
  version: ProtocolVersion,
  clientId: string,
  extra: Partial<ConnectPacket> = {},
): Buffer {
  return encode(
    {
      type: PacketType.CONNECT,
      protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: version,
      clean: true,
      keepalive: 60,
      clientId,
      ...extra,
    },
    version,
  );
}
