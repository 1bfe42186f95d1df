/**
 * A Heron process for the crash test: a broker with LMDB persistence in the
 * given directory on a fixed loopback port. Prints "ready" once listening, so
 * the driver knows when to connect; it is then killed with SIGKILL.
 * Usage: node crash-broker.js <dir> <port> [sync]
 */
import { createBroker } from '../../../src/broker/broker.js';
import type { SyncMode } from '../../../src/store/store.js';

const [dir, port, sync] = process.argv.slice(2);
const broker = createBroker({
  sysInterval: 0,
  maxQueuedMessages: 0,
  listeners: [{ port: Number(port), host: '127.0.0.1' }],
  // A long interval makes `interval` mode's early acknowledgements visible to the check.
  persistence: {
    backend: 'lmdb',
    location: dir!,
    sync: (sync as SyncMode) ?? 'commit',
    syncInterval: 1000,
  },
});
broker.listen().then(
  () => process.stdout.write('ready\n'),
  (err: unknown) => {
    process.stderr.write(`crash-broker failed to start: ${String(err)}\n`);
    process.exit(2);
  },
);
