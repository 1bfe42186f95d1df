/** SUBSCRIBE and UNSUBSCRIBE: authorization, limits, the session's records and their routes. */
import { type QoS, ReasonCode } from '../protocol/constants.js';
import { ProtocolError } from '../protocol/errors.js';
import type { SubscribePacket } from '../protocol/packets.js';
import { parseSharedSubscription } from '../protocol/topic.js';
import type { Persistence } from '../store/persistence.js';
import type { AccessControl } from './access-control.js';
import type { ClientInfo, ResolvedBrokerOptions } from './options.js';
import type { Router } from './router.js';
import type { Session, SubscriptionRecord } from './session.js';
import type { BrokerStats } from './stats.js';

/** What subscription handling needs of the broker around it. */
export interface SubscriptionsDeps {
  readonly options: ResolvedBrokerOptions;
  readonly stats: BrokerStats;
  readonly router: Router;
  readonly persistence: Persistence | undefined;
  /** Current time in ms (retained messages expire). */
  readonly now: number;
  /** Tells the embedding application about an unsubscription (the `unsubscribe` event). */
  unsubscribed(client: ClientInfo, filters: string[]): void;
}

/** A connected client subscribing: what SUBSCRIBE handling reads of its connection. */
export interface Subscriber {
  readonly session: Session;
  readonly client: ClientInfo;
  readonly access: AccessControl;
  /** Protocol version of the connection: v5 gets specific reason codes. */
  readonly version: number;
  /** Topic prefix of the client's listener. */
  readonly mountPoint: string | undefined;
  /** An announced v3 bridge: its subscriptions get No Local and Retain As Published. */
  readonly bridge: boolean;
}

/** Per subscription of a SUBSCRIBE, what the authorizeSubscribe hook answered. */
export type SubscribeVerdicts = Array<boolean | number | undefined>;

/** What a SUBSCRIBE came to. */
export interface SubscribeOutcome {
  /** SUBACK reason codes, one per subscription. */
  readonly codes: number[];
  /** The new subscriptions that get matching retained messages after the SUBACK. */
  readonly retainedFor: SubscriptionRecord[];
}

/**
 * A filter as a session keys it on a listener with a mount point: the prefix
 * goes in front of the topic filter, inside a `$share/group/` when shared.
 */
function mountedFilter(
  mountPoint: string,
  shared: { group: string; filter: string } | undefined,
  filter: string,
): string {
  return shared !== undefined
    ? `$share/${shared.group}/${mountPoint}${shared.filter}`
    : mountPoint + filter;
}

/** Subscribing and unsubscribing, for clients and for internal (bridge) sessions. */
export class Subscriptions {
  private readonly deps: SubscriptionsDeps;

  constructor(deps: SubscriptionsDeps) {
    this.deps = deps;
  }

  /** Whether a topic or filter has more levels than allowed (counted in stats). */
  topicTooDeep(topic: string): boolean {
    const max = this.deps.options.maxTopicLevels;
    if (max <= 0) return false;
    let levels = 1;
    for (let i = topic.indexOf('/'); i !== -1; i = topic.indexOf('/', i + 1)) {
      if (++levels > max) {
        this.deps.stats.topicLevelsExceeded++;
        return true;
      }
    }
    return false;
  }

  /**
   * Asks the authorizeSubscribe hook about each subscription, one after the
   * other; undefined (nothing to wait for) when the hook need not be asked.
   */
  verdicts(sub: Subscriber, p: SubscribePacket): Promise<SubscribeVerdicts> | undefined {
    const hook = this.deps.options.hooks.authorizeSubscribe;
    if (hook === undefined || !sub.access.asksSubscribeHook(sub.session.acl)) return undefined;
    return (async () => {
      const verdicts: SubscribeVerdicts = [];
      for (const s of p.subscriptions) verdicts.push(await hook(sub.client, s));
      return verdicts;
    })();
  }

  /**
   * Applies a SUBSCRIBE: checks each subscription (syntax, features, depth,
   * ACL, hook verdict, quota), records and routes the granted ones. Throws a
   * ProtocolError for No Local on a v5 shared subscription.
   */
  apply(
    sub: Subscriber,
    p: SubscribePacket,
    verdicts: SubscribeVerdicts | undefined,
  ): SubscribeOutcome {
    const { session, access } = sub;
    const v5 = sub.version === 5;
    const { options: o, stats, router, persistence } = this.deps;
    const codes: number[] = [];
    const subId = p.properties?.subscriptionIdentifiers?.[0];
    const retainedFor: SubscriptionRecord[] = [];
    const mp = sub.mountPoint;
    for (let i = 0; i < p.subscriptions.length; i++) {
      const wanted = p.subscriptions[i]!;
      let verdict = verdicts?.[i];
      let filter = wanted.topic;
      let topicFilter = filter;
      let group: string | undefined;
      const shared = parseSharedSubscription(filter);
      if (shared === 'invalid') {
        codes.push(v5 ? ReasonCode.TopicFilterInvalid : 0x80);
        continue;
      }
      const unsupported = this.unsupportedFeature(wanted.topic, shared !== undefined, subId);
      if (unsupported !== 0) {
        codes.push(v5 ? unsupported : 0x80);
        continue;
      }
      if (shared !== undefined) {
        if (v5 && wanted.noLocal) {
          // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error.
          throw new ProtocolError(
            ReasonCode.ProtocolError,
            'No Local on a shared subscription',
            'MQTT-3.8.3-4',
          );
        }
        group = shared.group;
        topicFilter = shared.filter;
      }
      if (mp !== undefined) {
        topicFilter = mp + topicFilter;
        filter = mountedFilter(mp, shared, filter);
      }
      if (this.topicTooDeep(topicFilter)) {
        codes.push(v5 ? ReasonCode.TopicFilterInvalid : 0x80);
        continue;
      }
      if (verdict === undefined && !access.maySubscribe(session.acl, filter)) verdict = false;
      if (verdict === false || (typeof verdict === 'number' && verdict >= 0x80)) {
        stats.authzDenied++;
        const code = typeof verdict === 'number' ? verdict : o.subscribeDeniedReasonCode;
        codes.push(v5 ? code : 0x80);
        continue;
      }
      const existing = session.subscriptions.get(filter);
      if (
        existing === undefined &&
        o.maxSubscriptionsPerClient > 0 &&
        session.subscriptions.size >= o.maxSubscriptionsPerClient
      ) {
        stats.subscriptionsRefused++;
        codes.push(v5 ? ReasonCode.QuotaExceeded : 0x80);
        continue;
      }
      let qos = wanted.qos;
      if (qos > o.maxQos) qos = o.maxQos;
      if (typeof verdict === 'number' && verdict < qos) qos = verdict as QoS;
      const rec: SubscriptionRecord = {
        session,
        filter,
        topicFilter,
        shareGroup: group,
        qos,
        // Like Mosquitto, an announced v3 bridge never gets its own messages back, retain flags intact.
        noLocal: wanted.noLocal || sub.bridge,
        retainAsPublished: wanted.retainAsPublished || sub.bridge,
        retainHandling: wanted.retainHandling,
        subscriptionId: subId,
      };
      if (existing !== undefined) router.remove(existing);
      session.addSubscription(rec);
      router.add(rec);
      persistence?.subscribed(rec);
      codes.push(qos);
      if (
        group === undefined &&
        (wanted.retainHandling === 0 || (wanted.retainHandling === 1 && existing === undefined))
      ) {
        retainedFor.push(rec);
      }
    }
    return { codes, retainedFor };
  }

  /** SUBACK code for a subscription using a feature this broker has switched off, or 0. */
  private unsupportedFeature(filter: string, shared: boolean, subId: number | undefined): number {
    const o = this.deps.options;
    if (shared && !o.sharedSubscriptionAvailable) return ReasonCode.SharedSubscriptionsNotSupported;
    if (subId !== undefined && !o.subscriptionIdentifiersAvailable)
      return ReasonCode.SubscriptionIdentifiersNotSupported;
    if (!o.wildcardSubscriptionAvailable && (filter.includes('+') || filter.includes('#')))
      return ReasonCode.WildcardSubscriptionsNotSupported;
    return 0;
  }

  /** Removes subscriptions of a connected client by exact filter; returns v5 UNSUBACK codes. */
  unsubscribe(sub: Subscriber, filters: string[]): number[] {
    const session = sub.session;
    const codes: number[] = [];
    const mp = sub.mountPoint;
    for (const f of filters) {
      const shared = parseSharedSubscription(f);
      if (shared === 'invalid') {
        codes.push(ReasonCode.TopicFilterInvalid);
        continue;
      }
      const filter = mp === undefined ? f : mountedFilter(mp, shared, f);
      const rec = session.subscriptions.get(filter);
      if (rec === undefined) {
        codes.push(ReasonCode.NoSubscriptionExisted);
        continue;
      }
      session.removeSubscription(filter);
      this.deps.router.remove(rec);
      this.deps.persistence?.unsubscribed(session, filter);
      codes.push(ReasonCode.Success);
    }
    this.deps.unsubscribed(sub.client, filters);
    return codes;
  }

  /** Subscribes an internal session with No Local and Retain As Published; sends no retained messages. */
  subscribeInternal(session: Session, filter: string, qos: QoS): void {
    const router = this.deps.router;
    const existing = session.subscriptions.get(filter);
    if (existing !== undefined) router.remove(existing);
    const rec: SubscriptionRecord = {
      session,
      filter,
      topicFilter: filter,
      shareGroup: undefined,
      qos,
      noLocal: true,
      retainAsPublished: true,
      retainHandling: 2,
      subscriptionId: undefined,
    };
    session.addSubscription(rec);
    router.add(rec);
  }

  /** Removes every subscription of an internal session. */
  unsubscribeInternal(session: Session): void {
    for (const rec of session.subscriptions.values()) this.deps.router.remove(rec);
    session.clearSubscriptions();
  }
}
