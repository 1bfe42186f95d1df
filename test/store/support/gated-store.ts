/**
 * A real LMDB store whose commits the test can hold back (a slow disk, made
 * deterministic) or make fail, and which tracks which subscriptions are
 * durable: lets a test check what a client was told against what is on disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStore } from '../../../src/store/lmdb.js';
import {
  type Store,
  type StoredState,
  StoreError,
  type SyncMode,
} from '../../../src/store/store.js';
import type { WriteBatch } from '../../../src/store/write-batch.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

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

/**
 * Runs `fn` against a broker on a {@link GatedStore} in a fresh directory; the gate
 * is opened, the broker closed and the directory removed even when `fn` fails (a
 * held commit would block close()).
 */
export async function withGatedBroker(
  sync: SyncMode,
  fn: (b: TestBroker, store: GatedStore) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'heron-gated-'));
  const store = new GatedStore(dir);
  try {
    const b = await startBroker({
      persistence: { backend: 'lmdb', location: dir, store, sync, syncInterval: 5 },
    });
    try {
      await fn(b, store);
    } finally {
      store.release();
      await b.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
