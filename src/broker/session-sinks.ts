/** Reporting one session's delivery changes to its store and to a second observer (a cluster replica). */

/**
 * The shape of `SessionPersistence` (session.ts), generic over its delivery
 * and message types so that this file need not import the session.
 */
interface Sink<D, M> {
  stored(d: D): void;
  removed(d: D): void;
  hold(d: D): boolean;
  incoming(packetId: number, present: boolean, msg?: M): void;
}

/**
 * Both sinks, the store first. A QoS 2 PUBLISH is held by the second one when
 * it holds at all (a replica, which also waits for the store's commit), else
 * by the store; the sink that did not hold it sees it stored.
 */
class BothSinks<D, M> implements Sink<D, M> {
  private readonly a: Sink<D, M>;
  /** The second sink (secondSink reads it). */
  readonly b: Sink<D, M>;

  constructor(a: Sink<D, M>, b: Sink<D, M>) {
    this.a = a;
    this.b = b;
  }

  stored(d: D): void {
    this.a.stored(d);
    this.b.stored(d);
  }

  removed(d: D): void {
    this.a.removed(d);
    this.b.removed(d);
  }

  hold(d: D): boolean {
    if (this.b.hold(d)) {
      this.a.stored(d);
      return true;
    }
    return this.a.hold(d);
  }

  incoming(packetId: number, present: boolean, msg?: M): void {
    this.a.incoming(packetId, present, msg);
    this.b.incoming(packetId, present, msg);
  }
}

/** One sink for a session's delivery changes: `a`, `b`, both, or none. */
export function joinSinks<D, M>(
  a: Sink<D, M> | undefined,
  b: Sink<D, M> | undefined,
): Sink<D, M> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return new BothSinks(a, b);
}

/** What `joined` (made by joinSinks) holds besides `first`: the second sink, if any. */
export function secondSink<D, M>(
  joined: Sink<D, M> | undefined,
  first: Sink<D, M> | undefined,
): Sink<D, M> | undefined {
  if (joined === undefined || joined === first) return undefined;
  return joined instanceof BothSinks ? joined.b : joined;
}
