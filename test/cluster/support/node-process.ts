// A cluster node in its own process, so a test can kill -9 it.
// argv: redisUrl keyPrefix nodeId nodeTtl [lmdbDir]; prints {"port": N} once listening.
// With an LMDB directory the node persists (commit mode) and publishes $SYS every second.
import { createBroker } from '../../../src/broker/broker.js';

const [redisUrl, keyPrefix, nodeId, ttl, store] = process.argv.slice(2);
const broker = createBroker({
  sysInterval: store === undefined ? 0 : 1,
  listeners: [{ port: 0, host: '127.0.0.1' }],
  ...(store === undefined ? {} : { persistence: { backend: 'lmdb', location: store } }),
  cluster: {
    redisUrl: redisUrl!,
    keyPrefix: keyPrefix!,
    nodeId: nodeId!,
    nodeTtl: Number(ttl),
    linkHost: '127.0.0.1',
  },
});
const [addr] = await broker.listen();
process.stdout.write(`${JSON.stringify({ port: addr!.port })}\n`);
