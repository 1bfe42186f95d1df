import type { StoredState } from './records.js';
import type { WriteBatch } from './write-batch.js';

// The records live in records.ts so that WriteBatch, which holds them, need not
// import this file, which names WriteBatch; they stay importable from here.
export type {
  DeliveryRecord,
  LinkAppliedRecord,
  LinkFrameRecord,
  LinkStreamRecord,
  MessageRecord,
  SessionRecord,
  StoredState,
  SubscriptionData,
} from './records.js';

/**
 * A storage backend. Writes are collected in a {@link WriteBatch} by the broker
 * and handed over whole: `write` must apply a batch atomically (all or
 * nothing) and resolve once it is durable to the degree `sync` asks. Reads
 * happen once, at startup. Nothing here is specific to one backend, so memory,
 * LMDB and (later) Redis implement the same contract.
 */
export interface Store {
  /** Backend name for logs ("memory", "lmdb"). */
  readonly backend: string;
  /** Opens (creating if needed) and loads everything; rejects with a StoreError. */
  open(): Promise<StoredState>;
  /**
   * Applies a batch atomically. With `sync`, resolves only once the data would
   * survive a power loss (fsync); without, once it would survive a process crash.
   */
  write(batch: WriteBatch, sync: boolean): Promise<void>;
  /** Waits for pending writes and releases the storage. */
  close(): Promise<void>;
}

/** What kind of failure a StoreError reports. */
export type StoreErrorCode = 'unwritable' | 'corrupt' | 'io';

/** A storage failure: the location cannot be used, or its content cannot be trusted. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  /** The storage location concerned. */
  readonly location: string;

  constructor(code: StoreErrorCode, location: string, message: string, cause?: unknown) {
    super(`${message} (store at ${location})`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.location = location;
  }
}

/** When acknowledgements go out relative to the disk: see docs/persistence.md. */
export type SyncMode = 'commit' | 'interval' | 'none';

/** The `persistence` broker option. */
export interface PersistenceOptions {
  /** Which backend stores sessions and messages. */
  backend: 'memory' | 'lmdb';
  /** Directory of the LMDB store; for `memory`, a name shared by brokers in this process. */
  location: string;
  /**
   * `commit` (default): PUBACK/PUBREC wait for the group commit that made the
   * message durable. `interval`: acks go at once, commits every `syncInterval` ms.
   * `none`: acks go at once, commits are not fsynced.
   */
  sync?: SyncMode;
  /** Milliseconds between commits in `interval` mode. Default 10. */
  syncInterval?: number;
  /** A ready-made backend (e.g. a custom one); overrides `backend` and `location`. */
  store?: Store;
}
