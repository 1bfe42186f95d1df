/**
 * Aedes, in memory, on a loopback port: the third broker of `npm run bench:compare`.
 * Run: node dist/bench/aedes-server.js PORT
 */
import net from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? 1883);
const aedes = await Aedes.createBroker();
const server = net.createServer({ noDelay: true }, aedes.handle);
server.listen(port, '127.0.0.1', () => process.stdout.write(`aedes listening on ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
