import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { BrokerOptions } from '../../../src/broker/options.js';
import { PacketType, type ProtocolVersion, type QoS } from '../../../src/protocol/constants.js';
import type {
  ConnackPacket,
  ConnectPacket,
  Packet,
  PublishPacket,
  SubackPacket,
} from '../../../src/protocol/packets.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';

export { delay, RawClient } from '../../helpers/raw-client.js';

/** A broker for one conformance file plus the clients it opened, closed together. */
export interface Harness {
  tb: TestBroker;
  port: number;
  clients: RawClient[];
  /** Connects a socket without sending CONNECT. */
  socket(version?: ProtocolVersion): Promise<RawClient>;
  /** Connects and completes CONNECT; fails unless CONNACK 0. */
  connect(fields?: Partial<ConnectPacket>, version?: ProtocolVersion): Promise<RawClient>;
  /** Sends CONNECT and returns the CONNACK whatever its code. */
  connack(
    fields?: Partial<ConnectPacket>,
    version?: ProtocolVersion,
  ): Promise<{ c: RawClient; ack: ConnackPacket }>;
  /** Closes every client and the broker. */
  close(): Promise<void>;
}

let idCounter = 0;

/** A client id unique within the test run (letters and digits only, <= 23 chars). */
export function uid(prefix = 'c'): string {
  return `${prefix}${process.pid % 1000}x${++idCounter}`.slice(0, 23);
}

/** Starts a broker with short timeouts suited to tests. */
async function harness(options: BrokerOptions = {}): Promise<Harness> {
  const tb = await startBroker(options);
  const clients: RawClient[] = [];
  const h: Harness = {
    tb,
    port: tb.port,
    clients,
    async socket(version = 4) {
      const c = await RawClient.connect(tb.port, version);
      clients.push(c);
      return c;
    },
    async connack(fields = {}, version = 4) {
      const c = await h.socket(version);
      const ack = await c.handshake({ clientId: uid(), ...fields });
      return { c, ack };
    },
    async connect(fields = {}, version = 4) {
      const { c, ack } = await h.connack(fields, version);
      assert.equal(ack.reasonCode, 0, `CONNACK ${ack.reasonCode}`);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      await tb.close();
    },
  };
  return h;
}

/**
 * A harness started before the enclosing suite's tests and closed after them; the
 * returned view reads the running one, so use it inside tests only.
 */
export function suiteHarness(options: BrokerOptions = {}): Harness {
  let h: Harness | undefined;
  before(async () => {
    h = await harness(options);
  });
  after(() => h?.close());
  const live = (): Harness => {
    if (h === undefined) throw new Error('suiteHarness used outside its suite');
    return h;
  };
  return {
    get tb() {
      return live().tb;
    },
    get port() {
      return live().port;
    },
    get clients() {
      return live().clients;
    },
    socket: (version) => live().socket(version),
    connect: (fields, version) => live().connect(fields, version),
    connack: (fields, version) => live().connack(fields, version),
    close: () => live().close(),
  };
}

let pid = 0;
/** A packet id for client-sent packets (1..65535). */
function nextId(): number {
  pid = (pid % 65535) + 1;
  return pid;
}

/** Subscribes and returns the SUBACK return codes. */
export async function subscribe(
  c: RawClient,
  filters: string | Array<[string, QoS]>,
  qos: QoS = 0,
): Promise<number[]> {
  const list: Array<[string, QoS]> = typeof filters === 'string' ? [[filters, qos]] : filters;
  const packetId = nextId();
  c.send({
    type: PacketType.SUBSCRIBE,
    packetId,
    subscriptions: list.map(([topic, q]) => ({
      topic,
      qos: q,
      noLocal: false,
      retainAsPublished: false,
      retainHandling: 0,
    })),
  });
  const ack = await c.nextOfType<SubackPacket>(PacketType.SUBACK);
  assert.equal(ack.packetId, packetId);
  return ack.reasonCodes;
}

/** Unsubscribes and waits for UNSUBACK. */
export async function unsubscribe(c: RawClient, topics: string[]): Promise<void> {
  const packetId = nextId();
  c.send({ type: PacketType.UNSUBSCRIBE, packetId, topics });
  const ack = await c.nextOfType(PacketType.UNSUBACK);
  assert.equal((ack as { packetId: number }).packetId, packetId);
}

/**
 * Publishes and completes the QoS flow from the client side (PUBACK, or
 * PUBREC/PUBREL/PUBCOMP), so the broker has taken ownership on return.
 */
export async function publish(
  c: RawClient,
  topic: string,
  payload: string | Buffer,
  qos: QoS = 0,
  retain = false,
): Promise<void> {
  const packetId = qos === 0 ? 0 : nextId();
  c.send({
    type: PacketType.PUBLISH,
    topic,
    payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
    qos,
    retain,
    dup: false,
    packetId,
  });
  if (qos === 0) {
    // The broker handles a connection's packets in order: PINGRESP means the PUBLISH was routed.
    c.send({ type: PacketType.PINGREQ });
    await c.nextOfType(PacketType.PINGRESP);
  } else if (qos === 1) {
    await c.next((p) => p.type === PacketType.PUBACK && p.packetId === packetId);
  } else if (qos === 2) {
    await c.next((p) => p.type === PacketType.PUBREC && p.packetId === packetId);
    c.send({ type: PacketType.PUBREL, packetId, reasonCode: 0 });
    await c.next((p) => p.type === PacketType.PUBCOMP && p.packetId === packetId);
  }
}

/** Waits for the next PUBLISH (optionally on a topic); does not acknowledge it. */
export function nextPublish(c: RawClient, topic?: string, ms = 3000): Promise<PublishPacket> {
  return c.next<PublishPacket>(
    (p) => p.type === PacketType.PUBLISH && (topic === undefined || p.topic === topic),
    ms,
  );
}

/** Acknowledges a received PUBLISH as the client would (PUBACK, or PUBREC then PUBREL's PUBCOMP). */
export async function ack(c: RawClient, p: PublishPacket): Promise<void> {
  if (p.qos === 1) c.send({ type: PacketType.PUBACK, packetId: p.packetId, reasonCode: 0 });
  else if (p.qos === 2) {
    c.send({ type: PacketType.PUBREC, packetId: p.packetId, reasonCode: 0 });
    await c.next((x) => x.type === PacketType.PUBREL && x.packetId === p.packetId);
    c.send({ type: PacketType.PUBCOMP, packetId: p.packetId, reasonCode: 0 });
  }
}

/** Asserts that no PUBLISH arrives within `ms` (on a topic, if given). */
export async function noPublish(c: RawClient, ms = 300, topic?: string): Promise<void> {
  const got = await c.quiet(ms);
  const pubs = got.filter(
    (p) => p.type === PacketType.PUBLISH && (topic === undefined || p.topic === topic),
  );
  assert.deepEqual(
    pubs.map((p) => (p as PublishPacket).topic),
    [],
    'expected no PUBLISH',
  );
}

/** Collects `n` PUBLISH packets in arrival order, acknowledging each. */
export async function collect(c: RawClient, n: number, ms = 3000): Promise<PublishPacket[]> {
  const out: PublishPacket[] = [];
  for (let i = 0; i < n; i++) {
    const p = await nextPublish(c, undefined, ms);
    await ack(c, p);
    out.push(p);
  }
  return out;
}

/**
 * Asserts the broker closed the connection without sending anything
 * of `forbidden` types (default: no CONNACK accepting it).
 */
export async function assertClosed(c: RawClient, ms = 3000): Promise<void> {
  assert.equal(await c.waitClosed(ms), true, 'broker should have closed the connection');
}

/** Asserts the connection stays open for `ms` and answers a PINGREQ. */
export async function assertOpen(c: RawClient): Promise<void> {
  c.send({ type: PacketType.PINGREQ });
  await c.nextOfType(PacketType.PINGRESP);
  assert.equal(c.closed, false);
}

/** Raw bytes of an MQTT string (length prefix + bytes). */
export function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** Frames a packet body with a fixed header byte and remaining length. */
export function frame(first: number, body: Buffer | number[]): Buffer {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const len: number[] = [];
  let n = b.length;
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    len.push(d);
  } while (n > 0);
  return Buffer.concat([Buffer.from([first, ...len]), b]);
}

/** Raw CONNECT for 3.1.1 with custom flags and payload (for malformed-CONNECT tests). */
export function rawConnect(
  flags: number,
  payload: Buffer,
  opts: { name?: string; level?: number; keepalive?: number } = {},
): Buffer {
  const ka = Buffer.alloc(2);
  ka.writeUInt16BE(opts.keepalive ?? 60);
  return frame(
    0x10,
    Buffer.concat([str(opts.name ?? 'MQTT'), Buffer.from([opts.level ?? 4, flags]), ka, payload]),
  );
}

/** The packet types received so far (not consumed). */
export function types(c: RawClient): number[] {
  return c.received.map((p: Packet) => p.type);
}
