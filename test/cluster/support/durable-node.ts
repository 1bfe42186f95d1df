// A cluster node with an LMDB store in its own process, so a test can kill -9 it and
// start it again on the same store. argv: one JSON DurableNodeConfig; prints {"port": N}.
import { createBroker } from '../../../src/broker/broker.js';
import type { DurableNodeConfig } from './durable-nodes.js';

const c = JSON.parse(process.argv[2]!) as DurableNodeConfig;
const broker = createBroker({
  sysInterval: c.sysInterval ?? 0,
  listeners: [{ port: 0, host: '127.0.0.1' }],
  maxQueuedMessages: 100_000,
  persistence: { backend: 'lmdb', location: c.dir },
  cluster: {
    redisUrl: c.redisUrl,
    keyPrefix: c.prefix,
    nodeId: c.nodeId,
    nodeTtl: c.nodeTtl,
    ...(c.handoverTimeout === undefined ? {} : { handoverTimeout: c.handoverTimeout }),
    linkHost: '127.0.0.1',
  },
});
const [addr] = await broker.listen();
process.stdout.write(`${JSON.stringify({ port: addr!.port })}\n`);
