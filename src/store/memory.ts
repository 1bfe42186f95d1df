import type {
  DeliveryRecord,
  LinkAppliedRecord,
  LinkFrameRecord,
  LinkStreamRecord,
  MessageRecord,
  SessionRecord,
  Store,
  StoredState,
  SubscriptionData,
} from './store.js';
import type { WriteBatch } from './write-batch.js';

/** Named memory stores of this process, so a broker restarted in-process finds its data. */
const byLocation = new Map<string, MemoryStore>();

function byClientThenNumber(a: string, b: string): number {
  const ia = a.lastIndexOf('\0');
  const ib = b.lastIndexOf('\0');
  const ca = a.slice(0, ia);
  const cb = b.slice(0, ib);
  if (ca !== cb) return ca < cb ? -1 : 1;
  return Number(a.slice(ia + 1)) - Number(b.slice(ib + 1));
}

/**
 * The store contract kept in process memory: survives a broker restart inside
 * the same process (same `location`), not a process exit. The reference
 * implementation for the backend-independent tests and for embedding without a disk.
 */
export class MemoryStore implements Store {
  readonly backend = 'memory';
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly subscriptions = new Map<string, { clientId: string; data: SubscriptionData }>();
  private readonly messages = new Map<number, MessageRecord>();
  private readonly deliveries = new Map<
    string,
    { clientId: string; seq: number; data: DeliveryRecord }
  >();
  private readonly incoming = new Map<string, StoredState['incoming'][number]>();
  private readonly retained = new Map<string, MessageRecord>();
  private readonly meta = new Map<string, number>();
  private readonly linkFrames = new Map<
    string,
    { peer: string; seq: number; data: LinkFrameRecord }
  >();
  private readonly linkStreams = new Map<string, LinkStreamRecord>();
  private readonly linkApplied = new Map<string, LinkAppliedRecord>();

  /** The memory store registered under a name (created on first use). */
  static at(location: string): MemoryStore {
    let s = byLocation.get(location);
    if (s === undefined) {
      s = new MemoryStore();
      byLocation.set(location, s);
    }
    return s;
  }

  /** Returns a snapshot of everything stored. */
  async open(): Promise<StoredState> {
    const deliveryKeys = [...this.deliveries.keys()].sort(byClientThenNumber);
    return {
      sessions: [...this.sessions.values()],
      subscriptions: [...this.subscriptions.values()],
      messages: new Map(this.messages),
      deliveries: deliveryKeys.map((k) => this.deliveries.get(k)!),
      incoming: [...this.incoming.values()],
      retained: [...this.retained.values()],
      meta: new Map(this.meta),
      linkFrames: [...this.linkFrames.keys()]
        .sort(byClientThenNumber)
        .map((k) => this.linkFrames.get(k)!),
      linkStreams: new Map(this.linkStreams),
      linkApplied: new Map(this.linkApplied),
    };
  }

  /** Applies a batch at once (a single synchronous step is atomic in JavaScript). */
  async write(batch: WriteBatch, _sync: boolean): Promise<void> {
    for (const [id, r] of batch.sessions) {
      if (r === null) this.sessions.delete(id);
      else this.sessions.set(id, r);
    }
    for (const [k, op] of batch.subscriptions) {
      if (op.data === null) this.subscriptions.delete(k);
      else this.subscriptions.set(k, { clientId: op.clientId, data: op.data });
    }
    for (const [id, r] of batch.messages) {
      if (r === null) this.messages.delete(id);
      else this.messages.set(id, r);
    }
    for (const [k, op] of batch.deliveries) {
      if (op.data === null) this.deliveries.delete(k);
      else this.deliveries.set(k, { clientId: op.clientId, seq: op.seq, data: op.data });
    }
    for (const [k, op] of batch.incoming) {
      if (!op.present) this.incoming.delete(k);
      else {
        const { clientId, packetId, message } = op;
        this.incoming.set(
          k,
          message === undefined ? { clientId, packetId } : { clientId, packetId, message },
        );
      }
    }
    for (const [topic, r] of batch.retained) {
      if (r === null) this.retained.delete(topic);
      else this.retained.set(topic, r);
    }
    for (const [k, v] of batch.meta) this.meta.set(k, v);
    for (const [k, op] of batch.linkFrames) {
      if (op.data === null) this.linkFrames.delete(k);
      else this.linkFrames.set(k, { peer: op.peer, seq: op.seq, data: op.data });
    }
    for (const [peer, r] of batch.linkStreams) {
      if (r === null) this.linkStreams.delete(peer);
      else this.linkStreams.set(peer, r);
    }
    for (const [stream, r] of batch.linkApplied) {
      if (r === null) this.linkApplied.delete(stream);
      else this.linkApplied.set(stream, { ...r });
    }
  }

  /** Nothing to release: the data stays for the next broker using this location. */
  async close(): Promise<void> {}
}
