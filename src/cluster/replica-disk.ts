/** Replica copies on disk: an LMDB environment beside the node's store, so copies outlive a restart of their node. */
import { mkdirSync } from 'node:fs';
import type { Database, RootDatabase } from 'lmdb';
import type {
  DeliveryRecord,
  MessageRecord,
  SessionRecord,
  SubscriptionData,
} from '../store/store.js';

/** A copy's session part, one entry per client id. */
export interface DiskHead {
  owner: string;
  epoch: number;
  record: SessionRecord;
  subs: SubscriptionData[];
  incoming: number[];
}

/** One delivery of a copy with its message, keyed by client id and replica id. */
export interface DiskItem {
  d: DeliveryRecord;
  m: MessageRecord;
}

/** A copy as loaded from disk. */
export interface DiskCopy {
  head: DiskHead;
  items: Map<number, DiskItem>;
}

/**
 * The copies of a replica node in their own LMDB environment (a
 * `cluster-replicas` directory inside the node's LMDB store): a head per
 * session and one entry per delivery, so a change rewrites only what changed.
 * lmdb-js commits writes in order, in batches; {@link durable} resolves once
 * everything written so far is committed (and fsynced, unless `sync` is off).
 */
export class ReplicaDisk {
  private readonly root: RootDatabase;
  private readonly heads: Database<DiskHead, string>;
  private readonly items: Database<DiskItem, [string, number]>;
  private readonly sync: boolean;
  private last: Promise<unknown> = Promise.resolve();

  private constructor(root: RootDatabase, sync: boolean) {
    this.root = root;
    this.sync = sync;
    this.heads = root.openDB({ name: 'heads' });
    this.items = root.openDB({ name: 'items' });
  }

  /** Opens (creating) the environment in `dir`. */
  static async open(dir: string, sync: boolean): Promise<ReplicaDisk> {
    mkdirSync(dir, { recursive: true });
    // Loaded here: nodes without an LMDB store never load it for replicas.
    const { open } = await import('lmdb');
    const root = open({ path: dir, noSubdir: false, maxDbs: 4, noSync: !sync });
    return new ReplicaDisk(root, sync);
  }

  /** Every copy stored. */
  load(): Map<string, DiskCopy> {
    const out = new Map<string, DiskCopy>();
    for (const { key, value } of this.heads.getRange())
      out.set(key, { head: value, items: new Map() });
    for (const { key, value } of this.items.getRange()) {
      const c = out.get(key[0]);
      if (c !== undefined) c.items.set(key[1], value);
    }
    return out;
  }

  /** Writes the session part of a copy. */
  putHead(clientId: string, head: DiskHead): void {
    this.last = this.heads.put(clientId, head);
  }

  /** Writes one delivery of a copy. */
  putItem(clientId: string, rid: number, item: DiskItem): void {
    this.last = this.items.put([clientId, rid], item);
  }

  /** Deletes one delivery of a copy. */
  deleteItem(clientId: string, rid: number): void {
    this.last = this.items.remove([clientId, rid]);
  }

  /** Deletes a copy with every delivery it had. */
  deleteCopy(clientId: string, rids: Iterable<number>): void {
    for (const rid of rids) this.items.remove([clientId, rid]);
    this.last = this.heads.remove(clientId);
  }

  /** Resolves once everything written so far is committed (fsynced with `sync`). */
  async durable(): Promise<void> {
    await this.last;
    if (this.sync) await this.root.flushed;
  }

  /** Waits for pending writes and closes the environment. */
  async close(): Promise<void> {
    await this.last.catch(() => undefined);
    await this.root.close();
  }
}
