import type { Message } from './message.js';

/** What the queue needs of a delivery: its message (for the byte count) and its shared group, if any. */
export interface Queued {
  readonly msg: Message;
  readonly qos: number;
  readonly group: unknown;
}

/** Shared by every queue that has never held anything (an idle session allocates no array). */
const NONE: never[] = [];

/**
 * A session's deliveries waiting for its inflight window or for its client to
 * come back, oldest first, with their payload bytes counted for the queue
 * bounds.
 *
 * A ring buffer whose array only ever grows (doubling, the old one emptied
 * first) and whose slots are cleared as deliveries leave: a long-lived queue's
 * array is in V8's old generation, and an array it abandoned while still
 * pointing at deliveries would keep them, and their messages, alive through
 * young-generation collections (see inflight-table.ts, where that cost ~450
 * bytes promoted per message). The array it replaces grew by push and was
 * compacted by slice, abandoning such arrays as a busy queue moved on.
 */
export class DeliveryQueue<D extends Queued> {
  private buf: Array<D | undefined> = NONE;
  private head = 0;
  private count = 0;
  private payloadBytes = 0;
  private qos0Count = 0;

  /** Number of deliveries queued. */
  get length(): number {
    return this.count;
  }

  /** Number of QoS 0 deliveries queued (a congested online client's). */
  get qos0(): number {
    return this.qos0Count;
  }

  /** Payload bytes of the deliveries queued. */
  get bytes(): number {
    return this.payloadBytes;
  }

  /** The oldest delivery, left in place. */
  peek(): D | undefined {
    return this.count === 0 ? undefined : this.buf[this.head];
  }

  /** Appends a delivery. */
  push(d: D): void {
    if (this.count === this.buf.length) this.grow();
    this.buf[(this.head + this.count) & (this.buf.length - 1)] = d;
    this.count++;
    this.payloadBytes += d.msg.payload.length;
    if (d.qos === 0) this.qos0Count++;
  }

  /** Removes and returns the oldest delivery. */
  shift(): D | undefined {
    if (this.count === 0) return undefined;
    const buf = this.buf;
    const d = buf[this.head]!;
    buf[this.head] = undefined;
    this.head = (this.head + 1) & (buf.length - 1);
    this.count--;
    this.payloadBytes -= d.msg.payload.length;
    if (d.qos === 0) this.qos0Count--;
    return d;
  }

  /** Drops everything. */
  clear(): void {
    this.release();
    this.buf = NONE;
    this.head = 0;
    this.count = 0;
    this.payloadBytes = 0;
    this.qos0Count = 0;
  }

  /** Removes and returns the oldest QoS 0 delivery, to make room for a QoS 1/2 one. */
  takeOldestQos0(): D | undefined {
    if (this.qos0Count === 0) return undefined;
    const buf = this.buf;
    const mask = buf.length - 1;
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) & mask;
      const d = buf[at]!;
      if (d.qos !== 0) continue;
      // Close the gap from the front: the older deliveries move up one slot.
      for (let j = i; j > 0; j--) buf[(this.head + j) & mask] = buf[(this.head + j - 1) & mask];
      buf[this.head] = undefined;
      this.head = (this.head + 1) & mask;
      this.count--;
      this.payloadBytes -= d.msg.payload.length;
      this.qos0Count--;
      return d;
    }
    return undefined;
  }

  /** Removes the QoS 0 deliveries (their client went offline), in order, into `out`. */
  takeQos0(out: D[]): void {
    if (this.qos0Count === 0) return;
    this.partition(out, isQos0);
  }

  /** The deliveries, oldest first. */
  *values(): IterableIterator<D> {
    const buf = this.buf;
    for (let i = 0; i < this.count; i++) yield buf[(this.head + i) & (buf.length - 1)]!;
  }

  /** Removes the deliveries of a shared subscription group (`group` set), in order, into `out`. */
  takeShared(out: D[]): void {
    if (this.count === 0) return;
    this.partition(out, isShared);
  }

  /** Moves the deliveries `take` selects into `out` and keeps the rest, both in order. */
  private partition(out: D[], take: (d: D) => boolean): void {
    const keep: D[] = [];
    for (const d of this.values()) {
      if (take(d)) {
        this.payloadBytes -= d.msg.payload.length;
        if (d.qos === 0) this.qos0Count--;
        out.push(d);
      } else keep.push(d);
    }
    const buf = this.buf;
    buf.fill(undefined);
    this.head = 0;
    this.count = keep.length;
    for (let i = 0; i < keep.length; i++) buf[i] = keep[i];
  }

  /** Doubles the array (16 slots at first), oldest delivery first, and empties the old one. */
  private grow(): void {
    const old = this.buf;
    const next = new Array<D | undefined>(old.length === 0 ? 16 : old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.release();
    this.buf = next;
    this.head = 0;
  }

  /** Cuts the current array's pointers to deliveries before it is dropped (see the class comment). */
  private release(): void {
    if (this.buf !== NONE) this.buf.fill(undefined);
  }
}

function isQos0(d: Queued): boolean {
  return d.qos === 0;
}

function isShared(d: Queued): boolean {
  return d.group !== undefined;
}
