/** The router: the subscription index, routing a message to sessions, shared groups, retained on subscribe. */
import type { QoS } from '../protocol/constants.js';
import type { AccessControls } from './access-controls.js';
import { DropReason } from './delivery-target.js';
import type { Message } from './message.js';
import type { RetainedIndex } from './retained-index.js';
import type { Session, SubscriptionRecord } from './session.js';
import { SharedGroup, type ShareStrategy } from './shared-group.js';
import type { BrokerStats } from './stats.js';
import { TopicTrie } from './topic-trie.js';

/** An entry of the subscription index: one client's subscription, or a shared group. */
export type RouteEntry = SubscriptionRecord | SharedGroup<SubscriptionRecord>;

/** What routing one message did. */
export interface RouteResult {
  /** Sessions the message was handed to (counting those that refused it, and No Local matches). */
  readonly reached: number;
  /** Of those, how many refused it because their queue was full (PUBACK 0x97 when all did). */
  readonly queueFull: number;
}

/** Shared results without refusals, by reach, so that the common case allocates nothing per message. */
const CLEAN_RESULTS: RouteResult[] = [];
const CLEAN_RESULT_CACHE = 1024;

function routeResult(reached: number, queueFull: number): RouteResult {
  if (queueFull !== 0 || reached >= CLEAN_RESULT_CACHE) return { reached, queueFull };
  return (CLEAN_RESULTS[reached] ??= Object.freeze({ reached, queueFull: 0 }));
}

/** Told when a route appears or disappears (the cluster announces them to other nodes). */
export interface RouteObserver {
  /** A subscription joined the index. */
  routeAdded(rec: SubscriptionRecord): void;
  /** A subscription left the index. */
  routeRemoved(rec: SubscriptionRecord): void;
}

/** What the router reads of the broker around it. */
export interface RouterDeps {
  /** Strategy of new shared groups. */
  readonly shareStrategy: ShareStrategy;
  /** v5 sessions get one copy per matching subscription (else one per session, all ids in it). */
  readonly copyPerSubscription: boolean;
  /** Drop counters (`publishDropped`). */
  readonly stats: BrokerStats;
  /** Read checks of deliveries, by listener. */
  readonly accessControls: AccessControls;
  /** Retained messages, matched when a subscription asks for them. */
  readonly retained: RetainedIndex<Message>;
}

/** Each subscription's identifier as the one-element list a delivery carries, made once per subscription. */
const SUB_ID_LISTS = new WeakMap<SubscriptionRecord, number[]>();

function subIdsOf(rec: SubscriptionRecord): number[] | undefined {
  const id = rec.subscriptionId;
  if (id === undefined) return undefined;
  let list = SUB_ID_LISTS.get(rec);
  if (list === undefined) {
    list = [id];
    SUB_ID_LISTS.set(rec, list);
  }
  return list;
}

function isOnlineMember(m: SubscriptionRecord): boolean {
  return m.session.online;
}

/**
 * The subscription index and the routing loop over it. Every delivery to a
 * session goes through here, so drop counting and read checks are in one place.
 */
export class Router {
  /** Subscription index: exact and wildcard filters, shared groups under `$share/<group>`. */
  readonly trie = new TopicTrie<RouteEntry>();
  /** Told about route changes (set by the cluster wiring). */
  observer: RouteObserver | undefined;
  private readonly deps: RouterDeps;
  private routeStamp = 0;
  private readonly matchScratch: RouteEntry[] = [];
  private readonly targetScratch: Session[] = [];

  constructor(deps: RouterDeps) {
    this.deps = deps;
  }

  /**
   * The routing loop: finds matching subscriptions, gives a v5 session one
   * delivery per matching subscription and any other session one delivery at
   * the highest granted QoS (overlapping subscriptions), picks one member per
   * shared group, and hands each session its deliveries. Allocation free unless
   * several subscription identifiers meet in one 3.1.1/in-process delivery. `shares` (messages from
   * another cluster node) limits shared groups to those that node assigned here;
   * `exclude` (a session moving between cluster nodes that already has this
   * message) is skipped.
   */
  route(msg: Message, shares?: ReadonlySet<string>, exclude?: Session): RouteResult {
    const out = this.matchScratch;
    const n = this.trie.matchInto(msg.topic, out);
    if (n === 0) return routeResult(0, 0);
    const stamp = ++this.routeStamp;
    // Scratch arrays are reused without truncation (truncating frees their backing store in V8).
    const targets = this.targetScratch;
    let nt = 0;
    const guarded = this.deps.accessControls.readsGuarded;
    const perSubscription = this.deps.copyPerSubscription;
    let reached = 0;
    let full = 0;
    for (let i = 0; i < n; i++) {
      const e = out[i]!;
      if (e instanceof SharedGroup) {
        if (shares !== undefined && !shares.has(`${e.name}/${e.filter}`)) continue;
        const member =
          e.pick(msg.topic, msg.origin, isOnlineMember) ?? e.pick(msg.topic, msg.origin);
        if (member === undefined) continue;
        if (guarded && !this.mayRead(member.session, msg.topic)) continue;
        const q = (msg.qos < member.qos ? msg.qos : member.qos) as QoS;
        const subIds = member.subscriptionId !== undefined ? [member.subscriptionId] : undefined;
        if (this.deliverCounted(member.session, msg, q, false, subIds, e) === DropReason.QueueFull)
          full++;
        reached++;
        continue;
      }
      const s = e.session;
      if (s === exclude) continue;
      if (e.noLocal && s.clientId === msg.origin) {
        // A match all the same: the publisher is told there was a subscriber (no PUBACK 0x10), as Mosquitto does.
        reached++;
        continue;
      }
      if (perSubscription && s.copyPerSubscription) {
        // v5, as Mosquitto: one PUBLISH per matching subscription, each with its own
        // QoS, Retain As Published and Subscription Identifier [MQTT-3.3.4-3] [MQTT-3.3.4-5].
        if (guarded && !this.mayRead(s, msg.topic)) continue;
        const q = (msg.qos < e.qos ? msg.qos : e.qos) as QoS;
        const r = e.retainAsPublished && msg.retain;
        if (this.deliverCounted(s, msg, q, r, subIdsOf(e), undefined) === DropReason.QueueFull)
          full++;
        reached++;
        continue;
      }
      if (s.noteMatch(stamp, e.qos, e.retainAsPublished, e.subscriptionId)) targets[nt++] = s;
    }
    for (let i = 0; i < nt; i++) {
      const s = targets[i]!;
      if (guarded && !this.mayRead(s, msg.topic)) continue;
      const q = (msg.qos < s.routeQos ? msg.qos : s.routeQos) as QoS;
      // [MQTT-3.3.1-9] forwarded to existing subscriptions with RETAIN 0, unless v5 Retain As Published.
      const r = s.routeRetainAsPublished && msg.retain;
      if (this.deliverCounted(s, msg, q, r, s.routeSubIds, undefined) === DropReason.QueueFull)
        full++;
      reached++;
    }
    return routeResult(reached, full);
  }

  /** Sends the retained messages matching new subscriptions (after their SUBACK); expired ones are deleted. */
  sendRetained(session: Session, recs: readonly SubscriptionRecord[], now: number): void {
    const found: Message[] = [];
    const retained = this.deps.retained;
    const guarded = this.deps.accessControls.readsGuarded;
    for (const rec of recs) {
      found.length = 0;
      retained.match(rec.topicFilter, found);
      for (const msg of found) {
        if (msg.isExpired(now)) {
          retained.delete(msg.topic);
          continue;
        }
        if (guarded && !this.mayRead(session, msg.topic)) continue;
        const q = (msg.qos < rec.qos ? msg.qos : rec.qos) as QoS;
        // [MQTT-3.3.1-8] retained messages sent on subscribe carry RETAIN 1.
        const subIds = rec.subscriptionId !== undefined ? [rec.subscriptionId] : undefined;
        const before = session.dropped;
        this.counted(session, before, session.deliverRetained(msg, q, subIds));
      }
    }
  }

  /** Adds a subscription to the index (also used when restoring from the store). */
  add(rec: SubscriptionRecord): void {
    this.observer?.routeAdded(rec);
    if (rec.shareGroup === undefined) {
      this.trie.add(rec.topicFilter, rec.session.clientId, rec);
      return;
    }
    const key = `$share/${rec.shareGroup}`;
    let group = this.trie.get(rec.topicFilter, key) as SharedGroup<SubscriptionRecord> | undefined;
    if (group === undefined) {
      group = new SharedGroup<SubscriptionRecord>(
        rec.shareGroup,
        rec.topicFilter,
        this.deps.shareStrategy,
      );
      this.trie.add(rec.topicFilter, key, group);
    }
    group.add(rec.session.clientId, rec);
  }

  /** Removes a subscription from the index (no-op when a newer record replaced it). */
  remove(rec: SubscriptionRecord): void {
    if (rec.shareGroup === undefined) {
      if (this.trie.get(rec.topicFilter, rec.session.clientId) === rec) {
        this.trie.remove(rec.topicFilter, rec.session.clientId);
        this.observer?.routeRemoved(rec);
      }
      return;
    }
    const key = `$share/${rec.shareGroup}`;
    const group = this.trie.get(rec.topicFilter, key) as
      | SharedGroup<SubscriptionRecord>
      | undefined;
    if (group === undefined) return;
    if (group.remove(rec.session.clientId)) this.observer?.routeRemoved(rec);
    if (group.size === 0) this.trie.remove(rec.topicFilter, key);
  }

  /**
   * Gives the shared-subscription deliveries a leaving member had not completed to
   * another member of the same group, online ones first. When no other member
   * exists, a session that `survives` keeps them for its own return.
   */
  handOverShared(session: Session, survives: boolean): void {
    const moved = session.takeShared();
    const other = (m: SubscriptionRecord): boolean => m.session !== session;
    const otherOnline = (m: SubscriptionRecord): boolean =>
      m.session !== session && isOnlineMember(m);
    for (const d of moved) {
      const group = d.group!;
      const member =
        group.pick(d.msg.topic, d.msg.origin, otherOnline) ??
        group.pick(d.msg.topic, d.msg.origin, other);
      if (member === undefined) {
        if (survives) session.redeliver(d);
        continue;
      }
      const qos = (d.msg.qos < member.qos ? d.msg.qos : member.qos) as QoS;
      d.qos = qos;
      member.session.redeliver(d);
    }
  }

  /**
   * A delivery's read check (only when `readsGuarded`), by the rules of the
   * listener the session's client came in on; a restored session whose
   * listener is unknown while listeners have their own rules reads nothing.
   */
  private mayRead(s: Session, topic: string): boolean {
    let a = s.access;
    if (a === undefined) {
      a = this.deps.accessControls.forListenerName(s.listener);
      s.setAccess(a);
    }
    return a?.mayRead(s, topic) === true;
  }

  /**
   * Hands a delivery to a session and counts what it dropped: the new message
   * (queue full, offline QoS 0) or older ones evicted to make room. The channel
   * counts its own drops (slow consumer, too large). Retained-on-subscribe
   * deliveries are counted by `counted` too, so `publishDropped` sees every refusal.
   */
  private deliverCounted(
    s: Session,
    msg: Message,
    q: QoS,
    r: boolean,
    subIds: number[] | undefined,
    group: SharedGroup<SubscriptionRecord> | undefined,
  ): DropReason {
    const before = s.dropped;
    return this.counted(s, before, s.deliver(msg, q, r, subIds, group));
  }

  /** Counts what a delivery to `s` dropped (its drop count was `before`); returns `res`. */
  private counted(s: Session, before: number, res: DropReason): DropReason {
    if (res === DropReason.Offline) this.deps.stats.publishDropped++;
    else this.deps.stats.publishDropped += s.dropped - before;
    return res;
  }
}
