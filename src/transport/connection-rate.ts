/** Per-address connection rate limiting, checked before any MQTT byte is read. */

/** Counts connection attempts per address within the current second. */
export class ConnectionRate {
  private second = 0;
  private readonly counts = new Map<string, number>();

  /** Counts one attempt from `address`; false when it is past `limit` this second. */
  admit(address: string, limit: number, now: number): boolean {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      // A new second: every address starts again (no map of stale entries to sweep).
      this.second = second;
      this.counts.clear();
    }
    const n = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, n);
    return n <= limit;
  }
}
