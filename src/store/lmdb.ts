import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
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
import { StoreError } from './store.js';
import type { WriteBatch } from './write-batch.js';

/** Version of the on-disk layout; a store written by a newer layout is refused, not misread. */
const SCHEMA = 1;

type Pair = [string, string | number];

function isCorruption(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /MDB_INVALID|MDB_CORRUPTED|MDB_VERSION_MISMATCH|MDB_PAGE_NOTFOUND|MDB_BAD|not an LMDB/i.test(
    m,
  );
}

/** LMDB's meta page magic, at byte 24 of each of the two meta pages. */
const LMDB_MAGIC = 0xbeefc0de;

/**
 * Checks the data file's meta pages before LMDB maps it: the native library
 * trusts the file, and a foreign or overwritten file can crash the process
 * instead of returning MDB_INVALID. Returns a reason when the file is not LMDB.
 */
function checkDataFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // No file yet: LMDB creates it.
  }
  try {
    const size = statSync(path).size;
    if (size === 0) return undefined;
    const head = Buffer.alloc(28);
    for (const page of [0, 4096, 8192, 16384]) {
      if (size < page + 28) break;
      readSync(fd, head, 0, 28, page);
      if (head.readUInt32LE(24) === LMDB_MAGIC) return undefined;
    }
    return 'data.mdb has no valid LMDB meta page';
  } finally {
    closeSync(fd);
  }
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new TypeError(`malformed ${what} record`);
}

/**
 * The embedded on-disk store: one LMDB environment (a memory-mapped B+tree with
 * copy-on-write pages, so a crash never leaves a half-written transaction) in
 * the `location` directory, with one sub-database per table. A batch becomes
 * one LMDB transaction; with `sync` the write resolves only after the
 * transaction is fsynced (lmdb-js commits first and flushes in overlap with the
 * next transaction, so we wait for its `flushed` promise, not the commit).
 */
export class LmdbStore implements Store {
  readonly backend = 'lmdb';
  readonly location: string;
  private readonly noSync: boolean;
  private root: RootDatabase | undefined;
  private sessions!: Database<SessionRecord, string>;
  private subscriptions!: Database<SubscriptionData, Pair>;
  private messages!: Database<MessageRecord, number>;
  private deliveries!: Database<DeliveryRecord, Pair>;
  private incoming!: Database<true | MessageRecord, Pair>;
  private retained!: Database<MessageRecord, string>;
  private meta!: Database<number, string>;
  private linkFrames!: Database<LinkFrameRecord, Pair>;
  private linkStreams!: Database<LinkStreamRecord, string>;
  private linkApplied!: Database<LinkAppliedRecord, string>;

  /** `noSync` opens the environment without fsync at all (sync mode `none`). */
  constructor(location: string, options: { noSync?: boolean } = {}) {
    this.location = location;
    this.noSync = options.noSync ?? false;
  }

  /** Opens or creates the environment and loads every table. */
  async open(): Promise<StoredState> {
    const loc = this.location;
    try {
      mkdirSync(loc, { recursive: true });
      if (!statSync(loc).isDirectory()) throw new Error('not a directory');
      accessSync(loc, constants.W_OK | constants.R_OK);
    } catch (err) {
      throw new StoreError(
        'unwritable',
        loc,
        `cannot use the storage directory: ${(err as Error).message}`,
        err,
      );
    }
    const bad = checkDataFile(join(loc, 'data.mdb'));
    if (bad !== undefined) throw new StoreError('corrupt', loc, `the store is corrupt: ${bad}`);
    // Loaded here, not at start: brokers with `persistence false` never load LMDB.
    const { open } = await import('lmdb');
    let root: RootDatabase;
    try {
      // noSubdir: false: `location` is always a directory, even when its name has a dot.
      root = open({
        path: loc,
        noSubdir: false,
        maxDbs: 12,
        noSync: this.noSync,
        noMemInit: true,
      });
      this.root = root;
      this.sessions = root.openDB({ name: 'sessions' });
      this.subscriptions = root.openDB({ name: 'subscriptions' });
      this.messages = root.openDB({ name: 'messages' });
      this.deliveries = root.openDB({ name: 'deliveries' });
      this.incoming = root.openDB({ name: 'incoming' });
      this.retained = root.openDB({ name: 'retained' });
      this.meta = root.openDB({ name: 'meta' });
      // Added without a schema change: an older store simply has none of them yet.
      this.linkFrames = root.openDB({ name: 'linkframes' });
      this.linkStreams = root.openDB({ name: 'linkstreams' });
      this.linkApplied = root.openDB({ name: 'linkapplied' });
    } catch (err) {
      await this.abandon();
      if (isCorruption(err))
        throw new StoreError(
          'corrupt',
          loc,
          `the store is corrupt: ${(err as Error).message}`,
          err,
        );
      const code = (err as NodeJS.ErrnoException).code;
      throw new StoreError(
        code === 'EACCES' || code === 'EROFS' || code === 'EPERM' ? 'unwritable' : 'io',
        loc,
        `cannot open the store: ${(err as Error).message}`,
        err,
      );
    }
    try {
      const state = this.load();
      const schema = state.meta.get('schema');
      if (schema === undefined) {
        if (state.sessions.length > 0 || state.messages.size > 0 || state.retained.length > 0)
          throw new TypeError('data without a schema version');
        await this.meta.put('schema', SCHEMA);
      } else if (schema !== SCHEMA) {
        throw new TypeError(`schema version ${schema}, this Heron reads ${SCHEMA}`);
      }
      return state;
    } catch (err) {
      await this.abandon();
      throw new StoreError(
        'corrupt',
        loc,
        `the store cannot be read: ${(err as Error).message}`,
        err,
      );
    }
  }

  private load(): StoredState {
    const state: StoredState = {
      sessions: [],
      subscriptions: [],
      messages: new Map(),
      deliveries: [],
      incoming: [],
      retained: [],
      meta: new Map(),
      linkFrames: [],
      linkStreams: new Map(),
      linkApplied: new Map(),
    };
    for (const { value } of this.sessions.getRange()) {
      expect(typeof value?.clientId === 'string', 'session');
      state.sessions.push(value);
    }
    for (const { key, value } of this.subscriptions.getRange()) {
      expect(Array.isArray(key) && typeof value?.filter === 'string', 'subscription');
      state.subscriptions.push({ clientId: key[0], data: value });
    }
    for (const { key, value } of this.messages.getRange()) {
      expect(typeof key === 'number' && Buffer.isBuffer(value?.payload), 'message');
      state.messages.set(key, value);
    }
    for (const { key, value } of this.deliveries.getRange()) {
      expect(Array.isArray(key) && typeof value?.messageId === 'number', 'delivery');
      state.deliveries.push({ clientId: key[0], seq: key[1] as number, data: value });
    }
    for (const { key, value } of this.incoming.getRange()) {
      expect(Array.isArray(key) && typeof key[1] === 'number', 'incoming packet id');
      // `true`: the id alone (deliver-first); a record: the message held until PUBREL.
      const held = value !== true && Buffer.isBuffer(value?.payload) ? value : undefined;
      const clientId = key[0];
      const packetId = key[1] as number;
      state.incoming.push(
        held === undefined ? { clientId, packetId } : { clientId, packetId, message: held },
      );
    }
    for (const { value } of this.retained.getRange()) {
      expect(typeof value?.topic === 'string' && Buffer.isBuffer(value.payload), 'retained');
      state.retained.push(value);
    }
    for (const { key, value } of this.meta.getRange()) {
      expect(typeof value === 'number', 'meta');
      state.meta.set(key, value);
    }
    for (const { key, value } of this.linkFrames.getRange()) {
      expect(Array.isArray(key) && Buffer.isBuffer(value?.body), 'link frame');
      state.linkFrames!.push({ peer: key[0], seq: key[1] as number, data: value });
    }
    for (const { key, value } of this.linkStreams.getRange()) {
      expect(typeof value?.stream === 'string', 'link stream');
      state.linkStreams!.set(key, value);
    }
    for (const { key, value } of this.linkApplied.getRange()) {
      expect(typeof value?.applied === 'number', 'link watermark');
      state.linkApplied!.set(key, value);
    }
    return state;
  }

  /** Applies the batch as one LMDB transaction. */
  write(batch: WriteBatch, sync: boolean): Promise<void> {
    const root = this.root;
    if (root === undefined) return Promise.reject(new Error('store is not open'));
    const committed = root.batch(() => {
      for (const [id, r] of batch.sessions) {
        if (r === null) this.sessions.remove(id);
        else this.sessions.put(id, r);
      }
      for (const op of batch.subscriptions.values()) {
        const key: Pair = [op.clientId, op.filter];
        if (op.data === null) this.subscriptions.remove(key);
        else this.subscriptions.put(key, op.data);
      }
      for (const [id, r] of batch.messages) {
        if (r === null) this.messages.remove(id);
        else this.messages.put(id, r);
      }
      for (const op of batch.deliveries.values()) {
        const key: Pair = [op.clientId, op.seq];
        if (op.data === null) this.deliveries.remove(key);
        else this.deliveries.put(key, op.data);
      }
      for (const op of batch.incoming.values()) {
        const key: Pair = [op.clientId, op.packetId];
        if (op.present) this.incoming.put(key, op.message ?? true);
        else this.incoming.remove(key);
      }
      for (const [topic, r] of batch.retained) {
        if (r === null) this.retained.remove(topic);
        else this.retained.put(topic, r);
      }
      for (const [k, v] of batch.meta) this.meta.put(k, v);
      for (const op of batch.linkFrames.values()) {
        const key: Pair = [op.peer, op.seq];
        if (op.data === null) this.linkFrames.remove(key);
        else this.linkFrames.put(key, op.data);
      }
      for (const [peer, r] of batch.linkStreams) {
        if (r === null) this.linkStreams.remove(peer);
        else this.linkStreams.put(peer, r);
      }
      for (const [stream, r] of batch.linkApplied) {
        if (r === null) this.linkApplied.remove(stream);
        else this.linkApplied.put(stream, r);
      }
    });
    // Taken now, in the same turn as the writes: the flush of this very transaction.
    const flushed = sync && !this.noSync ? Promise.resolve(root.flushed) : undefined;
    return flushed === undefined
      ? committed.then(ignore)
      : Promise.all([committed, flushed]).then(ignore);
  }

  /** Waits for outstanding transactions and closes the environment. */
  async close(): Promise<void> {
    const root = this.root;
    this.root = undefined;
    if (root !== undefined) await root.close();
  }

  private async abandon(): Promise<void> {
    const root = this.root;
    this.root = undefined;
    try {
      await root?.close();
    } catch {
      // Already failing: the original error is the one to report.
    }
  }
}

function ignore(): void {}
