/**
 * A real LMDB store whose commits the test can hold back (a slow disk, made
 * deterministic) or make fail, and which tracks which subscriptions are
 * durable: lets a test check what a client was told against what is on disk.
 */
import { LmdbStore } from '../../../src/store/lmdb.js';
import { type Store, type StoredState, StoreError } from '../../../src/store/store.js';
import type { WriteBatch } from '../../../src/store/write-batch.js';

/** The `clientId \0 filter` key of a subscription. */
export function subKey(clientId: string, filter: string): string {
  return `${clientId}\0${filter}`;
}

/** An LmdbStore behind a gate: while held, commits wait; `failNext` makes the next one reject. */
export class GatedStore implements Store {
  readonly backend = 'lmdb';
  readonly inner: LmdbStore;
  /** Subscriptions (keyed by {@link subKey}) in what has been committed so far. */
  readonly durable = new Set<string>();
  /** Commits waiting at the gate. */
  waiting = 0;
  /** Makes the next commit reject (after the gate) without touching the disk. */
  failNext = false;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(dir: string) {
    this.inner = new LmdbStore(dir);
  }

  async open(): Promise<StoredState> {
    const state = await this.inner.open();
    for (const s of state.subscriptions) this.durable.add(subKey(s.clientId, s.data.filter));
    return state;
  }

  /** Commits from now on wait until `release`. */
  hold(): void {
    if (this.gate === undefined) this.gate = new Promise((r) => (this.openGate = r));
  }

  /** Lets waiting and future commits through. */
  release(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  async write(batch: WriteBatch, sync: boolean): Promise<void> {
    if (this.gate !== undefined) {
      this.waiting++;
      await this.gate;
      this.waiting--;
    }
    if (this.failNext) {
      this.failNext = false;
      throw new StoreError('io', this.inner.location, 'injected commit failure');
    }
    await this.inner.write(batch, sync);
    for (const op of batch.subscriptions.values()) {
      const key = subKey(op.clientId, op.filter);
      if (op.data === null) this.durable.delete(key);
      else this.durable.add(key);
    }
  }

  close(): Promise<void> {
    this.release();
    return this.inner.close();
  }
}
