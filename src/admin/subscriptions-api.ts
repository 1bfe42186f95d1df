import type { Session, SubscriptionRecord } from '../broker/session.js';
import type { ApiContext } from './api-context.js';
import { paginate } from './paging.js';
import { type SubscriptionView, subscriptionView } from './views.js';

/** One topic filter with everyone subscribed to it; a shared group is its own entry. */
export interface FilterView {
  /** The topic filter without any `$share/group/` prefix. */
  filter: string;
  /** The shared group's name, or null for ordinary subscriptions. */
  shareGroup: string | null;
  /** Subscribers (for a shared group: its members). */
  subscribers: number;
  /** Members whose client is connected (they get the group's messages first). */
  online: number;
  members: { clientId: string; qos: number; online: boolean }[];
}

function* allSubscriptions(sessions: Iterable<Session>): Generator<SubscriptionRecord> {
  for (const s of sessions) {
    // Touching `subscriptions` would create an empty map for every idle session.
    if (s.subscriptionCount > 0) yield* s.subscriptions.values();
  }
}

/** A session's subscriptions as views. */
export function subscriptionsOf(s: Session): SubscriptionView[] {
  return s.subscriptionCount > 0 ? [...s.subscriptions.values()].map(subscriptionView) : [];
}

/** GET /subscriptions: every subscription, or one client's, by filter substring. */
export function listSubscriptions({ broker, query }: ApiContext): unknown {
  const clientId = query.get('clientId');
  const q = query.get('q') ?? '';
  let source: Iterable<SubscriptionRecord>;
  if (clientId !== null && clientId !== '') {
    const s = broker.sessions.get(clientId);
    source = s !== undefined && s.subscriptionCount > 0 ? s.subscriptions.values() : [];
  } else {
    source = allSubscriptions(broker.sessions.values());
  }
  return paginate(source, query, (r) => q === '' || r.filter.includes(q), subscriptionView);
}

/**
 * GET /filters: subscriptions grouped by topic filter, shared groups apart with
 * their members; `shared=true` keeps only shared groups. Sorted by filter.
 */
export function listFilters({ broker, query }: ApiContext): unknown {
  const q = query.get('q') ?? '';
  const sharedOnly = query.get('shared') === 'true';
  const byKey = new Map<string, FilterView>();
  for (const r of allSubscriptions(broker.sessions.values())) {
    const group = r.shareGroup ?? null;
    if (sharedOnly && group === null) continue;
    if (q !== '' && !r.topicFilter.includes(q) && !(group ?? '').includes(q)) continue;
    const key = `${group ?? ''}\u0000${r.topicFilter}`;
    let v = byKey.get(key);
    if (v === undefined) {
      v = { filter: r.topicFilter, shareGroup: group, subscribers: 0, online: 0, members: [] };
      byKey.set(key, v);
    }
    const online = r.session.online;
    v.subscribers++;
    if (online) v.online++;
    v.members.push({ clientId: r.session.clientId, qos: r.qos, online });
  }
  const sorted = [...byKey.values()].sort(
    (a, b) =>
      a.filter.localeCompare(b.filter) || (a.shareGroup ?? '').localeCompare(b.shareGroup ?? ''),
  );
  return paginate(
    sorted,
    query,
    () => true,
    (v) => v,
  );
}
