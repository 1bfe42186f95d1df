/**
 * The client side of keep alive: a PINGREQ when nothing else was sent for half the
 * interval, and the connection given up after two unanswered pings.
 */
export class KeepAlive {
  private timer: NodeJS.Timeout | undefined;
  private outstanding = false;
  private missed = 0;
  private sentSinceTick = false;

  /** `ping` sends a PINGREQ; `dead` drops a connection whose server stopped answering. */
  constructor(
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {}

  /** (Re)starts for a connection with this keep alive; 0 disables it. */
  start(seconds: number): void {
    this.stop();
    if (seconds <= 0) return;
    // Ticking at half the keep alive guarantees a packet at least once per keep alive.
    this.timer = setInterval(() => this.tick(), seconds * 500);
    this.timer.unref();
  }

  /** Stops the timer (connection closed). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.outstanding = false;
    this.missed = 0;
  }

  /** Something was written: no ping is needed this tick. */
  noteSent(): void {
    this.sentSinceTick = true;
  }

  /** A PINGRESP arrived. */
  noteResponse(): void {
    this.outstanding = false;
    this.missed = 0;
  }

  private tick(): void {
    if (this.outstanding) {
      if (++this.missed >= 2) this.dead();
      return;
    }
    if (!this.sentSinceTick) {
      this.outstanding = true;
      this.missed = 0;
      this.ping();
    }
    this.sentSinceTick = false;
  }
}
