import type { SubscriptionRecord } from '../broker/session.js';
import { DataKind } from './link-wire.js';
import { LocalRoutes } from './local-routes.js';
import type { PeerLink } from './peer-link.js';
import type { RemoteRoutes } from './remote-routes.js';

/** Route changes of a node, sent on its links: a reset (`r`) replaces everything known of it. */
interface RouteChange {
  r?: 1;
  a?: string[];
  d?: string[];
}

/** What the announcer needs of its cluster. */
export interface AnnouncerDeps {
  /** Whether the cluster has started (before that nothing is announced). */
  started(): boolean;
  /** The links to every other node. */
  links(): Iterable<PeerLink>;
  /** How long a SUBACK waits for the other nodes to acknowledge a route. */
  readonly handoverTimeout: number;
  /** Writes a flushed change to Redis's copy of this node's routes. */
  writeRedis(add: string[], remove: string[]): void;
}

function ignore(): void {}

function flush(a: RouteAnnouncer): void {
  a.flush();
}

/**
 * This node's routes on their way to the other nodes: local subscriptions
 * collect into one change per event-loop turn, sent on every link (whose
 * acknowledgement tells a waiting SUBACK the route is in force) and written to
 * Redis; a link that comes up first gets a snapshot. Also applies the changes
 * other nodes send to `remote`.
 */
export class RouteAnnouncer {
  private readonly local = new LocalRoutes();
  private readonly deps: AnnouncerDeps;
  private scheduled = false;
  /** SUBACKs waiting for the next flush to be acknowledged by every linked node. */
  private next: { promise: Promise<void>; resolve: () => void } | undefined;
  /** The last flush, until every linked node acknowledged it. */
  private flushing: Promise<void> | undefined;

  constructor(deps: AnnouncerDeps) {
    this.deps = deps;
  }

  /** Every route this node announces. */
  current(): string[] {
    return this.local.current();
  }

  /** A local subscription joined the router. */
  added(rec: SubscriptionRecord): void {
    if (this.local.add(rec)) this.schedule();
  }

  /** A local subscription left the router. */
  removed(rec: SubscriptionRecord): void {
    if (this.local.remove(rec)) this.schedule();
  }

  /**
   * Resolves once the routes changed so far are in force on every linked node
   * (they acknowledged the change), or after the hand-over timeout; undefined
   * when nothing is waiting.
   */
  settled(): Promise<void> | undefined {
    if (!this.deps.started()) return undefined;
    if (this.scheduled) {
      if (this.next === undefined) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => {
          resolve = r;
        });
        this.next = { promise, resolve };
      }
      return this.next.promise;
    }
    return this.flushing;
  }

  /** Sends the route changes of this event-loop turn to every node, and to Redis. */
  flush(): void {
    this.scheduled = false;
    const waiting = this.next;
    this.next = undefined;
    if (!this.deps.started() || !this.local.dirty) {
      waiting?.resolve();
      return;
    }
    const { add, remove } = this.local.takeChanges();
    const body = Buffer.from(JSON.stringify({ a: add, d: remove } satisfies RouteChange));
    const acks: Promise<boolean>[] = [];
    const wait = this.deps.handoverTimeout;
    for (const l of this.deps.links()) {
      const seq = l.send(DataKind.Routes, body);
      // A node whose link is down gets the routes in the snapshot when it is back.
      if (l.connected) acks.push(l.waitAck(seq, wait));
    }
    const done = Promise.all(acks).then(ignore);
    this.flushing = done;
    done.then(() => {
      if (this.flushing === done) this.flushing = undefined;
      waiting?.resolve();
    });
    this.deps.writeRedis(add, remove);
  }

  /** Every route of this node, as the first frame after a link (re)connects. */
  sendSnapshot(l: PeerLink): void {
    const body = { r: 1, a: this.local.current() } satisfies RouteChange;
    l.send(DataKind.Routes, Buffer.from(JSON.stringify(body)));
  }

  /** Applies a Routes frame from node `from` to what is known of the other nodes. */
  static apply(remote: RemoteRoutes, from: string, body: Buffer): void {
    const c = JSON.parse(body.toString()) as RouteChange;
    if (c.r === 1) remote.drop(from);
    remote.node(from);
    if (c.a !== undefined) for (const k of c.a) remote.add(from, k);
    if (c.d !== undefined) for (const k of c.d) remote.remove(from, k);
  }

  private schedule(): void {
    if (this.scheduled || !this.deps.started()) return;
    this.scheduled = true;
    setImmediate(flush, this);
  }
}
