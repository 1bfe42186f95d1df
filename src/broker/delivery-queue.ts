import type { Message } from './message.js';

/** What the queue needs of a delivery: its message (for the byte count) and its shared group, if any. */
export interface Queued {
  readonly msg: Message;
  readonly group: unknown;
}

/**
 * A session's deliveries waiting for its inflight window or for its client to
 * come back, oldest first, with their payload bytes counted for the queue
 * bounds. Taken from the front by moving a head index, not by shifting the
 * array, so draining a long queue stays linear.
 */
export class DeliveryQueue<D extends Queued> {
  private items: Array<D | undefined> = [];
  private head = 0;
  private payloadBytes = 0;

  /** Number of deliveries queued. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Payload bytes of the deliveries queued. */
  get bytes(): number {
    return this.payloadBytes;
  }

  /** The oldest delivery, left in place. */
  peek(): D | undefined {
    return this.items[this.head];
  }

  /** Appends a delivery. */
  push(d: D): void {
    this.items.push(d);
    this.payloadBytes += d.msg.payload.length;
  }

  /** Removes and returns the oldest delivery. */
  shift(): D | undefined {
    if (this.head >= this.items.length) return undefined;
    const d = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    this.payloadBytes -= d.msg.payload.length;
    // Compact occasionally so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    } else if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return d;
  }

  /** Drops everything. */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.payloadBytes = 0;
  }

  /** The deliveries, oldest first. */
  *values(): IterableIterator<D> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }

  /** Removes the deliveries of a shared subscription group (`group` set), in order, into `out`. */
  takeShared(out: D[]): void {
    if (this.head === this.items.length) return;
    const keep: D[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const d = this.items[i]!;
      if (d.group !== undefined) {
        this.payloadBytes -= d.msg.payload.length;
        out.push(d);
      } else keep.push(d);
    }
    this.items = keep;
    this.head = 0;
  }
}
