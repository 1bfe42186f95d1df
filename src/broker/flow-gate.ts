// Backpressure from subscribers' queues to the connections publishing into them.
//
// A QoS 1/2 message for an online client whose queue is full is not dropped
// while a publishing connection is being handled: the queue takes it (one
// message past its bound per publisher) and the publisher stops being read
// until the queue drains to half its bound. TCP then pushes back on the
// publishing client, which is what Mosquitto and Aedes effectively do by being
// slower than the client. A queue that makes no progress for the slow-consumer
// time lets its publishers go and drops again, so that one stuck client cannot
// stop every publisher for good.

/**
 * A connection the gate can stop reading: a publishing client's channel, a
 * bridge's connection to its remote, an incoming cluster link. The gate counts
 * the full queues holding each one and calls these on the first hold and the
 * last release only.
 */
export interface Pausable {
  /** Stops reading after the current packet. */
  holdInput(): void;
  /** Undoes holdInput(): no full queue holds it any more. */
  releaseInput(): void;
}

/** What the gate reads of a session's queue (Session satisfies it). */
export interface GatedQueue {
  readonly clientId: string;
  readonly online: boolean;
  readonly queuedCount: number;
  readonly queuedBytes: number;
}

/** Where the gate reports what it did (the broker's counters and log). */
export interface FlowGateEvents {
  /** A publisher was stopped for a full queue. */
  paused(): void;
  /** A full queue made no progress for the slow-consumer time; it drops from now on. */
  slowConsumer(q: GatedQueue): void;
}

/** The gate's settings (from the broker options). */
export interface FlowGateOptions {
  /** Queue bound in messages (0 = none). */
  maxQueuedMessages: number;
  /** Queue bound in payload bytes (0 = none). */
  maxQueuedBytes: number;
  /** Milliseconds without progress before a full queue is a slow consumer (0 = never). */
  slowConsumerMs: number;
}

/** A full queue and the publishers waiting for it. */
interface Pressure {
  /** Last time the client acknowledged something (or the queue became full). */
  progressAt: number;
  waiters: Pausable[];
}

/** The "publisher" of a will: nobody to stop (see FlowGate.beginWill). */
const NOBODY: Pausable = {
  holdInput(): void {},
  releaseInput(): void {},
};

/** See the module comment. One per broker. */
export class FlowGate {
  private readonly opts: FlowGateOptions;
  private readonly events: FlowGateEvents;
  /** The publisher whose PUBLISH is being routed, and its own session's queue. */
  private current: Pausable | undefined = undefined;
  private currentSelf: GatedQueue | undefined = undefined;
  /** Full queues the current PUBLISH went into. */
  private readonly fed: GatedQueue[] = [];
  private readonly pressured = new Map<GatedQueue, Pressure>();
  /** How many full queues hold each stopped publisher. */
  private readonly holds = new Map<Pausable, number>();
  /** Queues declared slow consumers: they drop until they drain below the low-water mark. */
  private readonly slow = new Set<GatedQueue>();
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(opts: FlowGateOptions, events: FlowGateEvents) {
    this.opts = opts;
    this.events = events;
  }

  /** Whether any queue is watched (so sessions report acknowledgements). */
  get watching(): boolean {
    return this.pressured.size > 0 || this.slow.size > 0;
  }

  /** Publishers currently stopped (a publisher waiting on two queues counts twice). */
  get waiting(): number {
    let n = 0;
    for (const p of this.pressured.values()) n += p.waiters.length;
    return n;
  }

  /** A client's QoS 1/2 PUBLISH is about to be routed; `self` is its own session. */
  begin(publisher: Pausable, self: GatedQueue): void {
    this.current = publisher;
    this.currentSelf = self;
  }

  /**
   * A will is about to be routed: full queues of online clients take it too.
   * Its client is gone, so nobody is stopped, and there is at most one will per
   * client, which bounds what the queues take past their bounds; a will is a
   * device's last word (its "offline" state) and not worth less than a PUBLISH.
   * Returns false, changing nothing, when a PUBLISH is being routed (a will
   * published from inside it goes with that PUBLISH); call end() only after true.
   */
  beginWill(): boolean {
    if (this.current !== undefined) return false;
    this.current = NOBODY;
    this.currentSelf = undefined;
    return true;
  }

  /**
   * Routing finished: the publisher waits for every full queue the message went
   * into. Returns whether it was stopped.
   */
  end(): boolean {
    const p = this.current;
    this.current = undefined;
    this.currentSelf = undefined;
    const fed = this.fed;
    if (p === NOBODY) fed.length = 0;
    if (p === undefined || fed.length === 0) return false;
    let held = false;
    for (let i = 0; i < fed.length; i++) {
      const q = fed[i]!;
      let pr = this.pressured.get(q);
      if (pr === undefined) {
        pr = { progressAt: Date.now(), waiters: [] };
        this.pressured.set(q, pr);
        this.startTimer();
      }
      if (pr.waiters.includes(p)) continue;
      pr.waiters.push(p);
      this.hold(p);
      held = true;
    }
    fed.length = 0;
    if (held) this.events.paused();
    return held;
  }

  /**
   * An online session's queue is full: whether it should take the message
   * anyway (its publisher will be stopped) rather than drop it. Only while a
   * client's PUBLISH is routed, never for the publisher's own session (it could
   * not acknowledge while we don't read it), never for a slow consumer.
   */
  absorb(q: GatedQueue): boolean {
    if (this.current === undefined || q === this.currentSelf || this.slow.has(q)) return false;
    if (!this.fed.includes(q)) this.fed.push(q);
    return true;
  }

  /** A watched session's client acknowledged a message (its queue may have drained). */
  progress(q: GatedQueue): void {
    const pr = this.pressured.get(q);
    if (pr !== undefined) pr.progressAt = Date.now();
    if (!this.belowLowWater(q)) return;
    this.slow.delete(q);
    if (pr !== undefined) this.release(q, pr);
  }

  /** A session went offline or was discarded: its publishers go on, and it is no longer watched. */
  gone(q: GatedQueue): void {
    this.slow.delete(q);
    const pr = this.pressured.get(q);
    if (pr !== undefined) this.release(q, pr);
  }

  /** Lets every publisher go (broker closing). */
  close(): void {
    for (const [q, pr] of this.pressured) this.release(q, pr);
    this.slow.clear();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private belowLowWater(q: GatedQueue): boolean {
    const o = this.opts;
    if (o.maxQueuedMessages > 0 && q.queuedCount > o.maxQueuedMessages >> 1) return false;
    if (o.maxQueuedBytes > 0 && q.queuedBytes > o.maxQueuedBytes / 2) return false;
    return true;
  }

  private release(q: GatedQueue, pr: Pressure): void {
    this.pressured.delete(q);
    const w = pr.waiters;
    pr.waiters = [];
    for (let i = 0; i < w.length; i++) this.unhold(w[i]!);
    if (this.pressured.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private hold(p: Pausable): void {
    const n = this.holds.get(p) ?? 0;
    this.holds.set(p, n + 1);
    if (n === 0) p.holdInput();
  }

  private unhold(p: Pausable): void {
    const n = this.holds.get(p);
    if (n === undefined) return;
    if (n > 1) {
      this.holds.set(p, n - 1);
      return;
    }
    this.holds.delete(p);
    p.releaseInput();
  }

  private startTimer(): void {
    const ms = this.opts.slowConsumerMs;
    if (this.timer !== undefined || ms <= 0) return;
    this.timer = setInterval(() => this.sweep(), Math.max(10, Math.min(250, ms / 4)));
    this.timer.unref();
  }

  /** Finds full queues that made no progress for the slow-consumer time. */
  private sweep(): void {
    const now = Date.now();
    const limit = this.opts.slowConsumerMs;
    for (const [q, pr] of this.pressured) {
      if (!q.online) {
        this.release(q, pr);
        continue;
      }
      if (now - pr.progressAt < limit) continue;
      this.slow.add(q);
      this.release(q, pr);
      this.events.slowConsumer(q);
    }
  }
}
