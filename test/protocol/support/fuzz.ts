// Seeded fuzz driver for the decoder: random and mutated byte streams, fed in
// random chunks. The decoder may only deliver packets or throw ProtocolError,
// and never holds more than maxPacketSize bytes. Used by the test suite and by
// bench/codec-fuzz.ts for long runs.
import {
  Decoder,
  encode,
  type Packet,
  ProtocolError,
  type ProtocolVersion,
} from '../../../src/protocol/index.js';
import { Rng, randomPacket } from './random-packets.js';

/** Outcome counts of a fuzz run. */
export interface FuzzStats {
  iterations: number;
  packets: number;
  protocolErrors: number;
}

class Count {
  packets = 0;
  onPacket(_packet: Packet): void {
    this.packets++;
  }
}

function mutate(rng: Rng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const edits = rng.range(1, 4);
  for (let e = 0; e < edits; e++) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(6)) {
      case 0: // flip bits
        if (b.length) b[at] ^= 1 << rng.int(8);
        break;
      case 1: // random byte
        if (b.length) b[at] = rng.next() & 0xff;
        break;
      case 2: // truncate
        b = b.subarray(0, at);
        break;
      case 3: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.range(1, 4)), b.subarray(at)]);
        break;
      case 4: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.range(1, 4))]);
        break;
      default: // interesting values
        if (b.length) b[at] = rng.pick([0, 0x7f, 0x80, 0xff, 0x23, 0x2b, 0xc0, 0xed]);
    }
  }
  return b;
}

/** Runs `iterations` fuzz cases from `seed`; throws on the first contract violation. */
export function runFuzz(seed: number, iterations: number): FuzzStats {
  const rng = new Rng(seed);
  const pool: Array<[ProtocolVersion, Buffer]> = [];
  for (const v of [3, 4, 5] as ProtocolVersion[]) {
    for (let i = 0; i < 300; i++) pool.push([v, encode(randomPacket(rng, v), v)]);
  }
  const stats: FuzzStats = { iterations, packets: 0, protocolErrors: 0 };
  for (let i = 0; i < iterations; i++) {
    let version: ProtocolVersion;
    let input: Buffer;
    if (rng.bool(0.2)) {
      version = rng.pick([3, 4, 5] as ProtocolVersion[]);
      input = rng.bytes(rng.int(64));
    } else {
      const picks = rng.range(1, 3);
      const parts: Buffer[] = [];
      version = 4;
      for (let k = 0; k < picks; k++) {
        const [v, b] = rng.pick(pool);
        version = v;
        parts.push(b);
      }
      input = mutate(rng, Buffer.concat(parts));
    }
    const maxPacketSize = rng.bool(0.3) ? rng.range(2, 200) : 1 << 20;
    const sink = new Count();
    const decoder = new Decoder(sink, { protocolVersion: version, maxPacketSize });
    try {
      let pos = 0;
      while (pos < input.length) {
        const n = rng.bool(0.5) ? input.length - pos : rng.range(1, 8);
        decoder.feed(input.subarray(pos, pos + n));
        pos += n;
        if (decoder.bufferedBytes > maxPacketSize) {
          throw new Error(
            `bufferedBytes ${decoder.bufferedBytes} > maxPacketSize ${maxPacketSize}`,
          );
        }
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) {
        const hex = input.toString('hex');
        throw new Error(`iteration ${i}: ${(err as Error).stack}\ninput v${version} ${hex}`);
      }
      if (typeof err.reasonCode !== 'number' || err.reasonCode < 0x80) {
        throw new Error(`iteration ${i}: bad reason code ${err.reasonCode}`);
      }
      stats.protocolErrors++;
    }
    stats.packets += sink.packets;
  }
  return stats;
}
