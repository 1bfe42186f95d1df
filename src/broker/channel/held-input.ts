/**
 * The packets a connection held by the flow gate keeps while it is read on
 * (channel.ts, holdInput): in order, with what they are estimated to cost, and
 * the bounds past which the connection is not read either.
 */
import { PacketType } from '../../protocol/constants.js';
import type { Packet } from '../../protocol/packets.js';

/**
 * What one held connection may keep before reading stops as well: packets,
 * counted as their topic and payload bytes plus PACKET_OVERHEAD each (roughly a
 * decoded packet's heap). TOTAL bounds all connections of the process together.
 */
const MAX_BYTES = 4 * 1024 * 1024;
const TOTAL = 64 * 1024 * 1024;
const PACKET_OVERHEAD = 200;

/** Bytes kept by every held connection of this process. */
let total = 0;

function sizeOf(p: Packet): number {
  return p.type === PacketType.PUBLISH
    ? PACKET_OVERHEAD + p.topic.length + p.payload.length
    : PACKET_OVERHEAD;
}

/** Packets handled at once while held: they only complete what we sent, or answer a ping. */
export function passesHold(p: Packet): boolean {
  const t = p.type;
  return (
    t === PacketType.PUBACK ||
    t === PacketType.PUBREC ||
    t === PacketType.PUBREL ||
    t === PacketType.PUBCOMP ||
    t === PacketType.PINGREQ
  );
}

/** One held connection's kept packets, oldest first. */
export class HeldInput {
  private packets: Array<Packet | undefined> = [];
  private next = 0;
  private bytes = 0;
  /**
   * A DISCONNECT waits among them: reading stays stopped until it is handled, so
   * that the client closing its socket after it is not seen as a connection lost
   * (its will published, its last PUBLISHes dropped) before it is handled.
   */
  private disconnect = false;

  /** Keeps a packet; returns whether reading must stop now (a bound reached, or a DISCONNECT). */
  keep(p: Packet): boolean {
    this.packets.push(p);
    const size = sizeOf(p);
    this.bytes += size;
    total += size;
    if (p.type === PacketType.DISCONNECT) this.disconnect = true;
    return this.full;
  }

  /** Whether reading must stay stopped: a bound is reached, or a DISCONNECT waits. */
  get full(): boolean {
    return this.disconnect || this.bytes >= MAX_BYTES || total >= TOTAL;
  }

  /** Whether every kept packet was taken. */
  get empty(): boolean {
    return this.next === this.packets.length;
  }

  /** Takes the oldest kept packet (undefined when empty). */
  take(): Packet | undefined {
    if (this.next === this.packets.length) return undefined;
    const p = this.packets[this.next]!;
    this.packets[this.next++] = undefined;
    const size = sizeOf(p);
    this.bytes -= size;
    total -= size;
    if (p.type === PacketType.DISCONNECT) this.disconnect = false;
    // A publisher held again and again may never empty its list: drop the taken slots.
    if (this.next >= 1024 && this.next * 2 >= this.packets.length) {
      this.packets = this.packets.slice(this.next);
      this.next = 0;
    }
    return p;
  }

  /** Gives back what is left to the process-wide count; the caller then drops this object. */
  release(): void {
    total -= this.bytes;
    this.bytes = 0;
  }
}
