import type { Message } from './message.js';

/** What the queue needs of a delivery: its message (for the byte count) and its shared group, if any. */
export interface Queued {
  readonly msg: Message;
  readonly qos: number;
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
  private qos0Count = 0;

  /** Number of deliveries queued. */
  get length(): number {
    return this.items.length - this.head;
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
    return this.items[this.head];
  }

  /** Appends a delivery. */
  push(d: D): void {
    this.items.push(d);
    this.payloadBytes += d.msg.payload.length;
    if (d.qos === 0) this.qos0Count++;
  }

  /** Removes and returns the oldest delivery. */
  shift(): D | undefined {
    if (this.head >= this.items.length) return undefined;
    const d = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    this.payloadBytes -= d.msg.payload.length;
    if (d.qos === 0) this.qos0Count--;
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
    this.qos0Count = 0;
  }

  /** Removes and returns the oldest QoS 0 delivery, to make room for a QoS 1/2 one. */
  takeOldestQos0(): D | undefined {
    if (this.qos0Count === 0) return undefined;
    for (let i = this.head; i < this.items.length; i++) {
      const d = this.items[i]!;
      if (d.qos !== 0) continue;
      this.items.splice(i, 1);
      this.payloadBytes -= d.msg.payload.length;
      this.qos0Count--;
      return d;
    }
    return undefined;
  }

  /** Removes the QoS 0 deliveries (their client went offline), in order, into `out`. */
  takeQos0(out: D[]): void {
    if (this.qos0Count === 0) return;
    const keep: D[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const d = this.items[i]!;
      if (d.qos === 0) {
        this.payloadBytes -= d.msg.payload.length;
        out.push(d);
      } else keep.push(d);
    }
    this.items = keep;
    this.head = 0;
    this.qos0Count = 0;
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
        if (d.qos === 0) this.qos0Count--;
        out.push(d);
      } else keep.push(d);
    }
    this.items = keep;
    this.head = 0;
  }
}
