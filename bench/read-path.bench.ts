/**
 * What a socket read costs a Node server, through the stream (`data` events)
 * and through direct reads into a shared buffer (src/transport/direct-read.ts,
 * what the broker's plain TCP connections use): a client process sends a
 * 70-byte segment and waits for a 4-byte answer before the next, so every
 * segment is one read and one write on the server; the server's CPU time per
 * read is printed for each mode, the modes alternating.
 *
 * Run: npm run build && node dist/bench/read-path.bench.js [reads] [rounds]
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { directReads } from '../src/transport/direct-read.js';

const reads = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);

if (process.argv[2] === 'client') {
  const s = net.connect({ port: Number(process.argv[3]), host: '127.0.0.1', noDelay: true });
  const segment = Buffer.alloc(70, 1);
  let left = Number(process.argv[4]);
  s.on('connect', () => s.write(segment));
  s.on('data', () => {
    if (--left > 0) s.write(segment);
    else s.end();
  });
} else {
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['stream', 'direct'] as const) {
      const c = await serve(mode);
      console.log(
        `${mode.padEnd(6)} user ${c.user.toFixed(2)} µs  system ${c.system.toFixed(2)} µs  per read`,
      );
    }
  }
}

/** Serves one client for `reads` round trips; resolves with the CPU µs per read. */
function serve(mode: 'stream' | 'direct'): Promise<{ user: number; system: number }> {
  const answer = Buffer.from([0x40, 2, 0, 1]);
  return new Promise((resolve) => {
    let count = 0;
    let start = process.cpuUsage();
    const server = net.createServer({ noDelay: true }, (s) => {
      // Touch every byte, as a decoder would.
      const onChunk = (chunk: Buffer): void => {
        count++;
        let sum = 0;
        for (let i = 0; i < chunk.length; i++) sum += chunk[i]!;
        if (sum >= 0) s.write(answer);
      };
      if (mode === 'direct') {
        const ok = directReads(s, (n, buf) => {
          onChunk(buf.subarray(0, n));
          return true;
        });
        if (!ok) throw new Error('direct reads are not available on this Node');
      } else s.on('data', onChunk);
      start = process.cpuUsage();
      s.on('close', () => {
        const used = process.cpuUsage(start);
        server.close();
        resolve({ user: used.user / count, system: used.system / count });
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      fork(fileURLToPath(import.meta.url), ['client', String(port), String(reads)]);
    });
  });
}
