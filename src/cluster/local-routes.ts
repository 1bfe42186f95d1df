import type { SubscriptionRecord } from '../broker/session.js';

/**
 * The filters this node announces to the cluster, reference-counted: many local
 * subscriptions to one filter are one announced route, and only the 0↔1
 * transitions become Redis writes. Changes collect until `takeChanges()`
 * (called once per event-loop turn), so a burst of SUBSCRIBEs is one pipeline.
 * Keys: the topic filter, or `$share/{group}/{filter}` for a shared group.
 */
export class LocalRoutes {
  private readonly counts = new Map<string, number>();
  /** Filter key → true (announce) / false (withdraw), pending. */
  private readonly pending = new Map<string, boolean>();

  /** The route key of a subscription. */
  static keyOf(rec: SubscriptionRecord): string {
    return rec.shareGroup === undefined
      ? rec.topicFilter
      : `$share/${rec.shareGroup}/${rec.topicFilter}`;
  }

  /** A subscription joined the router; true when this made a new route. */
  add(rec: SubscriptionRecord): boolean {
    const k = LocalRoutes.keyOf(rec);
    const n = this.counts.get(k) ?? 0;
    this.counts.set(k, n + 1);
    if (n !== 0) return false;
    this.pending.set(k, true);
    return true;
  }

  /** A subscription left the router; true when its route is gone. */
  remove(rec: SubscriptionRecord): boolean {
    const k = LocalRoutes.keyOf(rec);
    const n = this.counts.get(k);
    if (n === undefined) return false;
    if (n > 1) {
      this.counts.set(k, n - 1);
      return false;
    }
    this.counts.delete(k);
    this.pending.set(k, false);
    return true;
  }

  /** Whether changes wait to be announced. */
  get dirty(): boolean {
    return this.pending.size > 0;
  }

  /** Returns and clears the pending changes. */
  takeChanges(): { add: string[]; remove: string[] } {
    const add: string[] = [];
    const remove: string[] = [];
    for (const [k, on] of this.pending) (on ? add : remove).push(k);
    this.pending.clear();
    return { add, remove };
  }

  /** Every route key in force now (a snapshot for a link that comes up; pending changes stay pending). */
  current(): string[] {
    return [...this.counts.keys()];
  }
}
