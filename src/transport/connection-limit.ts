/** A listener's max_connections: how many of its connections are open, and whether one more fits. */

/** Counts a listener's open connections against its max_connections (-1: no limit). */
export class ConnectionLimit {
  private open = 0;
  // One handler for every connection of the listener (no closure per connection).
  private readonly release = (): void => {
    this.open--;
  };

  constructor(private readonly max: number) {}

  /** True when one more connection would go over the limit. */
  get full(): boolean {
    return this.max >= 0 && this.open >= this.max;
  }

  /** Counts `conn` as open until it closes; counting costs a listener, so only when limited. */
  track(conn: { once(event: 'close', listener: () => void): unknown }): void {
    if (this.max < 0) return;
    this.open++;
    conn.once('close', this.release);
  }
}
