import { ReasonCode } from '../protocol/constants.js';

/**
 * Per-connection publish rate limits over one-second windows: PUBLISH packets
 * per second and payload bytes per second. Fixed windows cost two counters and
 * no timer; a burst of up to twice the limit across a window edge is accepted.
 */
export class PublishQuota {
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private second = 0;
  private messages = 0;
  private bytes = 0;

  /** Limits of 0 are off. */
  constructor(maxMessages: number, maxBytes: number) {
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
  }

  /**
   * Counts one PUBLISH of `payloadBytes` at time `now` (ms). Returns 0 when it
   * is within the limits, 0x96 (message rate too high) or 0x97 (quota exceeded).
   */
  take(now: number, payloadBytes: number): number {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.messages = 0;
      this.bytes = 0;
    }
    this.messages++;
    this.bytes += payloadBytes;
    if (this.maxMessages > 0 && this.messages > this.maxMessages)
      return ReasonCode.MessageRateTooHigh;
    if (this.maxBytes > 0 && this.bytes > this.maxBytes) return ReasonCode.QuotaExceeded;
    return 0;
  }
}
