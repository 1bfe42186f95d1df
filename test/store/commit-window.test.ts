import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type CommitWaiter, Persistence } from '../../src/store/persistence.js';
import { GatedStore } from './support/gated-store.js';

// Persistence only says which commit window is durable; whoever must not answer
// before that (a connection's held acks, a session's held QoS 2 PUBLISH) asks per
// window. These run it on a real LMDB store whose commits the test can hold or fail.

/** Notes what the store told it, in order. */
class RecordingWaiter implements CommitWaiter {
  readonly told: string[] = [];
  durable(w: number): void {
    this.told.push(`durable ${w}`);
  }
  commitFailed(w: number): void {
    this.told.push(`failed ${w}`);
  }
}

/** Waits until `cond` holds (the store commits on its own schedule), failing after 10 s. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not reached within 10 s');
}

async function withPersistence(
  fn: (p: Persistence, store: GatedStore) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'heron-window-'));
  const store = new GatedStore(dir);
  await store.open();
  const p = new Persistence({ backend: 'lmdb', location: dir, store, sync: 'commit' }, undefined);
  try {
    await fn(p, store);
  } finally {
    store.release();
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Persistence commit windows', () => {
  test('a waiter hears "durable" only once the commit holding its window has finished', async () => {
    await withPersistence(async (p, store) => {
      store.hold();
      const a = new RecordingWaiter();
      p.reserveMessageIds(1);
      const w = p.waitDurable(a);
      await until(() => store.waiting === 1);
      assert.deepEqual(a.told, [], 'not while its commit waits at the gate');
      store.release();
      await until(() => a.told.length > 0);
      assert.deepEqual(a.told, [`durable ${w}`]);
      assert.ok(p.openWindow > w, 'later changes belong to a later window');
    });
  });

  test('asking while a commit runs waits for the next one, and each waiter hears once per ask', async () => {
    await withPersistence(async (p, store) => {
      store.hold();
      const early = new RecordingWaiter();
      const late = new RecordingWaiter();
      p.reserveMessageIds(1);
      const w1 = p.waitDurable(early);
      await until(() => store.waiting === 1);
      // The first window is being committed: this write and this ask are the next window's.
      p.reserveMessageIds(70000);
      const w2 = p.waitDurable(late);
      assert.ok(w2 > w1);
      store.release();
      await until(() => late.told.length > 0);
      assert.deepEqual(early.told, [`durable ${w1}`]);
      assert.deepEqual(late.told, [`durable ${w2}`]);
      assert.equal(p.commits, 2);
    });
  });

  test('with nothing written, a waiter still hears on the next turn, without a commit', async () => {
    await withPersistence(async (p) => {
      const a = new RecordingWaiter();
      const w = p.waitDurable(a);
      assert.deepEqual(a.told, [], 'never synchronously');
      await until(() => a.told.length > 0);
      assert.deepEqual(a.told, [`durable ${w}`]);
      assert.equal(p.commits, 0);
    });
  });

  test('a failed commit tells its waiters so, and the next window is committed for the others', async () => {
    await withPersistence(async (p, store) => {
      store.hold();
      store.failNext = true;
      const lost = new RecordingWaiter();
      const next = new RecordingWaiter();
      p.reserveMessageIds(1);
      const w1 = p.waitDurable(lost);
      await until(() => store.waiting === 1);
      p.reserveMessageIds(70000);
      const w2 = p.waitDurable(next);
      store.release();
      await until(() => next.told.length > 0);
      assert.deepEqual(lost.told, [`failed ${w1}`]);
      assert.deepEqual(next.told, [`durable ${w2}`]);
    });
  });
});
