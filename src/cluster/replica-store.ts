/** The replica side: copies of other nodes' persistent sessions, kept here and never active. */
import { SESSION_NEVER_EXPIRES } from '../broker/session.js';
import type {
  DeliveryRecord,
  MessageRecord,
  SessionRecord,
  SubscriptionData,
} from '../store/store.js';
import type { SessionHandover } from './handover.js';
import type { ReplicaDisk } from './replica-disk.js';

/** One delivery of a replicated session and its message, under the owner's replica id. */
interface ReplicaDelivery {
  d: DeliveryRecord;
  m: MessageRecord;
}

/** Another node's session as copied here: not routed, not served, only handed out on a fail-over. */
interface ReplicaRecord {
  /** The node that owns the session and streams its changes here. */
  owner: string;
  /** The owner's claim epoch of the client id (the highest wins when copies disagree). */
  epoch: number;
  record: SessionRecord;
  subs: SubscriptionData[];
  /** By replica id: ids grow with the order the owner created the deliveries. */
  deliveries: Map<number, ReplicaDelivery>;
  incoming: Set<number>;
}

/** A change of one replicated session, as the owner streams it (see Replicas). */
export type ReplicaOp =
  /** The whole session: replaces any copy (a new replica, or the owner re-chose). */
  | {
      k: 'snap';
      c: string;
      e: number;
      rec: SessionRecord;
      subs: SubscriptionData[];
      ds: [number, DeliveryRecord, MessageRecord][];
      inc: number[];
    }
  /** The session record and subscriptions changed. */
  | { k: 'hdr'; c: string; rec: SessionRecord; subs: SubscriptionData[] }
  /** A delivery was queued or changed (sent with a packet id, PUBREC'd); `m` on its first put. */
  | { k: 'put'; c: string; r: number; d: DeliveryRecord; m?: MessageRecord }
  /** A delivery ended. */
  | { k: 'del'; c: string; r: number }
  /** An incoming QoS 2 packet id was recorded (`on`) or released. */
  | { k: 'in'; c: string; p: number; on: boolean }
  /** The session ended, or is replicated elsewhere now. */
  | { k: 'drop'; c: string };

/**
 * The copies this node keeps of sessions owned by other nodes. Changes are
 * taken only from the node that owns a copy (a stale owner's late changes are
 * ignored); a snapshot from another node replaces a copy unless its epoch is older.
 */
export class ReplicaStore {
  private readonly copies = new Map<string, ReplicaRecord>();
  /**
   * Per owner, its applied watermark per incoming stream as of its last batch:
   * frames up to it are in the copies (see Orphans). Not on disk: copies loaded
   * from disk have none, so no orphan is applied to them twice.
   */
  private readonly marks = new Map<string, Record<string, number>>();
  /** Where copies are also written, when the node has an LMDB store. */
  private disk: ReplicaDisk | undefined;

  /** Number of session copies held here. */
  get size(): number {
    return this.copies.size;
  }

  /** Writes copies through to `disk` from now on, after loading what it holds. */
  useDisk(disk: ReplicaDisk): void {
    this.disk = disk;
    for (const [id, c] of disk.load()) {
      this.copies.set(id, {
        owner: c.head.owner,
        epoch: c.head.epoch,
        record: c.head.record,
        subs: c.head.subs,
        deliveries: c.items,
        incoming: new Set(c.head.incoming),
      });
    }
  }

  /** Resolves once every change applied so far is durable (at once without a disk). */
  durable(): Promise<void> {
    return this.disk === undefined ? Promise.resolve() : this.disk.durable();
  }

  /** Closes the disk, if any. */
  async close(): Promise<void> {
    await this.disk?.close();
    this.disk = undefined;
  }

  /** Applies one change sent by node `from`. */
  apply(from: string, op: ReplicaOp): void {
    const cur = this.copies.get(op.c);
    const disk = this.disk;
    if (op.k === 'snap') {
      if (cur !== undefined && cur.owner !== from && cur.epoch > op.e) return;
      if (cur !== undefined) this.remove(op.c, cur);
      const deliveries = new Map<number, ReplicaDelivery>();
      for (const [r, d, m] of op.ds) {
        deliveries.set(r, { d, m });
        disk?.putItem(op.c, r, { d, m });
      }
      const copy: ReplicaRecord = {
        owner: from,
        epoch: op.e,
        record: op.rec,
        subs: op.subs,
        deliveries,
        incoming: new Set(op.inc),
      };
      this.copies.set(op.c, copy);
      this.writeHead(op.c, copy);
      return;
    }
    if (cur === undefined || cur.owner !== from) return;
    switch (op.k) {
      case 'hdr':
        cur.record = op.rec;
        cur.subs = op.subs;
        this.writeHead(op.c, cur);
        break;
      case 'put': {
        const m = op.m ?? cur.deliveries.get(op.r)?.m;
        if (m === undefined) break;
        const item = { d: op.d, m };
        cur.deliveries.set(op.r, item);
        disk?.putItem(op.c, op.r, item);
        break;
      }
      case 'del':
        if (cur.deliveries.delete(op.r)) disk?.deleteItem(op.c, op.r);
        break;
      case 'in':
        if (op.on) cur.incoming.add(op.p);
        else cur.incoming.delete(op.p);
        this.writeHead(op.c, cur);
        break;
      case 'drop':
        this.remove(op.c, cur);
        break;
    }
  }

  /** Node `owner`'s applied watermark per incoming stream, as of the batch just applied. */
  mark(owner: string, w: Record<string, number>): void {
    this.marks.set(owner, w);
  }

  /**
   * The copy of a client id's session if node `owner` owned it ('' for any),
   * with its epoch and the owner's watermark (undefined when unknown).
   */
  get(
    clientId: string,
    owner: string,
  ):
    | { epoch: number; session: SessionHandover; marks: Record<string, number> | undefined }
    | undefined {
    const r = this.copies.get(clientId);
    if (r === undefined || (owner !== '' && r.owner !== owner)) return undefined;
    const m = this.marks.get(r.owner);
    return {
      epoch: r.epoch,
      session: toHandover(r),
      marks: m === undefined ? undefined : { ...m },
    };
  }

  /** Client ids of the copies node `owner` owns. */
  ownedBy(owner: string): string[] {
    const out: string[] = [];
    for (const [id, r] of this.copies) if (r.owner === owner) out.push(id);
    return out;
  }

  /** Forgets the copy of a client id if node `owner` owned it (the session was restored elsewhere). */
  forget(clientId: string, owner: string): void {
    const r = this.copies.get(clientId);
    if (r?.owner === owner) this.remove(clientId, r);
  }

  /** Drops copies of sessions that expired while offline (their owner may be gone). */
  sweep(now: number): void {
    for (const [id, r] of this.copies) {
      const rec = r.record;
      if (
        rec.expiryInterval !== SESSION_NEVER_EXPIRES &&
        rec.disconnectedAt > 0 &&
        now - rec.disconnectedAt >= rec.expiryInterval * 1000
      )
        this.remove(id, r);
    }
  }

  private remove(clientId: string, r: ReplicaRecord): void {
    this.copies.delete(clientId);
    this.disk?.deleteCopy(clientId, r.deliveries.keys());
  }

  private writeHead(clientId: string, r: ReplicaRecord): void {
    this.disk?.putHead(clientId, {
      owner: r.owner,
      epoch: r.epoch,
      record: r.record,
      subs: r.subs,
      incoming: [...r.incoming],
    });
  }
}

/** A copy in the hand-over shape: in-flight deliveries first, then queued ones, each in creation order. */
function toHandover(r: ReplicaRecord): SessionHandover {
  const ids = [...r.deliveries.keys()].sort((a, b) => a - b);
  const inflight: number[] = [];
  const queued: number[] = [];
  for (const id of ids) (r.deliveries.get(id)!.d.packetId !== 0 ? inflight : queued).push(id);
  const messages: MessageRecord[] = [];
  const deliveries: DeliveryRecord[] = [];
  for (const id of [...inflight, ...queued]) {
    const x = r.deliveries.get(id)!;
    messages.push({ ...x.m, id });
    deliveries.push({ ...x.d, messageId: id });
  }
  return {
    record: r.record,
    subscriptions: r.subs,
    messages,
    deliveries,
    incoming: [...r.incoming],
  };
}
