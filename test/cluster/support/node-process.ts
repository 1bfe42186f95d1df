// A cluster node in its own process, so a test can kill -9 it.
// argv: redisUrl keyPrefix nodeId nodeTtl; prints {"port": N} once listening.
import { createBroker } from '../../../src/broker/broker.js';

const [redisUrl, keyPrefix, nodeId, ttl] = process.argv.slice(2);
const broker = createBroker({
  sysInterval: 0,
  listeners: [{ port: 0, host: '127.0.0.1' }],
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
