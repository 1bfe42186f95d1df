import type { Message } from '../broker/message.js';
import type { QoS } from '../protocol/constants.js';
import type { Properties } from '../protocol/properties.js';

/** A message on its way to the remote broker, already renamed for the remote side. */
export interface OutgoingMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: Properties | undefined;
  /** The local message it was made from. */
  source: Message;
  /** Delivery key in the bridge's stored session; 0 when not stored (see bridge-store.ts). */
  seq: number;
}

/**
 * The bridge's memory-only queue of messages waiting for the remote broker:
 * bounded by count and bytes (0 = no bound); a full queue refuses the newest
 * message, as Mosquitto does for a client over max_queued_messages.
 */
export class OutgoingQueue {
  private items: OutgoingMessage[] = [];
  private head = 0;
  /** Payload bytes queued. */
  bytes = 0;
  private readonly maxMessages: number;
  private readonly maxBytes: number;

  constructor(maxMessages: number, maxBytes: number) {
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }

  /** Messages queued. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends within the bounds; false when the message does not fit (it is dropped). */
  push(m: OutgoingMessage): boolean {
    const size = m.payload.length;
    if (this.maxMessages > 0 && this.length >= this.maxMessages) return false;
    if (this.maxBytes > 0 && this.bytes + size > this.maxBytes) return false;
    this.items.push(m);
    this.bytes += size;
    return true;
  }

  /** Puts messages back in front, ignoring the bounds (they had been accepted already). */
  requeue(ms: OutgoingMessage[]): void {
    if (ms.length === 0) return;
    let size = 0;
    for (const m of ms) size += m.payload.length;
    this.items = ms.concat(this.items.slice(this.head));
    this.head = 0;
    this.bytes += size;
  }

  /** Takes the oldest message. */
  shift(): OutgoingMessage | undefined {
    if (this.head >= this.items.length) return undefined;
    const m = this.items[this.head]!;
    (this.items as Array<OutgoingMessage | undefined>)[this.head] = undefined;
    this.head++;
    this.bytes -= m.payload.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  /** Drops everything. */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }
}
