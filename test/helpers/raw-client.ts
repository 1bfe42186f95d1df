import net from 'node:net';
import { PacketType, type ProtocolVersion, type QoS } from '../../src/protocol/constants.js';
import { Decoder, type PacketSink } from '../../src/protocol/decoder.js';
import { encode } from '../../src/protocol/encoder.js';
import type {
  ConnackPacket,
  ConnectPacket,
  Packet,
  SubackPacket,
} from '../../src/protocol/packets.js';
import { delay } from './process.js';

/**
 * A minimal MQTT test client over a real TCP socket: sends packets or raw
 * bytes (so malformed input can be sent) and collects what the broker sends.
 */
export class RawClient implements PacketSink {
  readonly socket: net.Socket;
  readonly received: Packet[] = [];
  readonly decoder: Decoder;
  closed = false;
  private waiters: Array<() => void> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(socket: net.Socket, version: ProtocolVersion) {
    this.socket = socket;
    this.decoder = new Decoder(this, { protocolVersion: version });
    socket.on('data', (chunk) => {
      try {
        this.decoder.feed(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.closeWaiters.splice(0)) w();
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects a socket (no MQTT CONNECT is sent). */
  static connect(port: number, version: ProtocolVersion = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(s, version)));
      s.once('error', reject);
    });
  }

  /** Decoder callback. */
  onPacket(packet: Packet): void {
    this.received.push(packet);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Protocol version used to encode and decode. */
  get version(): ProtocolVersion {
    return this.decoder.protocolVersion;
  }
  set version(v: ProtocolVersion) {
    this.decoder.protocolVersion = v;
  }

  /** Sends a packet encoded in this client's version. */
  send(packet: Packet): void {
    this.socket.write(encode(packet, this.version));
  }

  /** Sends raw bytes. */
  sendRaw(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  /** Waits for the next packet matching `pred` (consumed from `received`), or rejects after `ms`. */
  async next<T extends Packet = Packet>(
    pred: (p: Packet) => boolean = () => true,
    ms = 3000,
  ): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.received.findIndex(pred);
      if (i >= 0) return this.received.splice(i, 1)[0] as T;
      if (this.closed) throw new Error('connection closed while waiting for a packet');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a packet');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a packet of the given type. */
  nextOfType<T extends Packet>(type: number, ms?: number): Promise<T> {
    return this.next<T>((p) => p.type === type, ms);
  }

  /** Resolves true when the broker closes the socket within `ms`, false otherwise. */
  waitClosed(ms = 3000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Resolves after `ms` with the packets received meanwhile (not consumed). */
  async quiet(ms: number): Promise<Packet[]> {
    await new Promise((r) => setTimeout(r, ms));
    return [...this.received];
  }

  /** Sends CONNECT and waits for CONNACK. */
  async handshake(fields: Partial<ConnectPacket> = {}): Promise<ConnackPacket> {
    this.send({
      type: PacketType.CONNECT,
      protocolName: this.version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: this.version,
      clean: true,
      keepalive: 60,
      clientId: `raw-${Math.random().toString(16).slice(2, 10)}`,
      ...fields,
    });
    return this.nextOfType(PacketType.CONNACK);
  }

  /** Subscribes to one filter (packet id 1, default options) and waits for the SUBACK. */
  subscribe(topic: string, qos: QoS = 1): Promise<SubackPacket> {
    this.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [{ topic, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    });
    return this.nextOfType(PacketType.SUBACK);
  }

  /** Closes the socket without DISCONNECT. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** Connects and completes the handshake in one step. */
export async function connectRaw(
  port: number,
  fields: Partial<ConnectPacket> = {},
  version: ProtocolVersion = 4,
): Promise<RawClient> {
  const c = await RawClient.connect(port, version);
  const ack = await c.handshake(fields);
  if (ack.reasonCode !== 0) throw new Error(`CONNACK ${ack.reasonCode}`);
  return c;
}

// Many suites take their sleep from here along with the raw client.
export { delay };
