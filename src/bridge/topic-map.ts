import type { BridgeDirection, BridgeTopic } from '../config/types.js';
import type { QoS } from '../protocol/constants.js';
import { topicMatches } from '../protocol/topic.js';

/** One `topic` line of a bridge, resolved into the filters used on each side. */
export interface TopicRule {
  direction: BridgeDirection;
  qos: QoS;
  /** Filter subscribed on the local broker: local prefix + pattern. */
  localFilter: string;
  /** Filter subscribed on the remote broker: remote prefix + pattern. */
  remoteFilter: string;
  localPrefix: string;
  remotePrefix: string;
}

/**
 * The topic lines of a bridge and the prefix translation between the two sides,
 * as Mosquitto does it: a message goes through the first line (in file order)
 * of the right direction whose filter matches its topic, which swaps that
 * line's prefix for the other side's.
 */
export class TopicMap {
  /** Every rule, in file order. */
  readonly rules: readonly TopicRule[];
  /** Rules whose messages flow remote → local (`in`, `both`). */
  readonly inbound: readonly TopicRule[];
  /** Rules whose messages flow local → remote (`out`, `both`). */
  readonly outbound: readonly TopicRule[];

  constructor(topics: readonly BridgeTopic[]) {
    this.rules = topics.map((t) => {
      const localPrefix = t.localPrefix ?? '';
      const remotePrefix = t.remotePrefix ?? '';
      return {
        direction: t.direction,
        qos: t.qos,
        localFilter: localPrefix + t.pattern,
        remoteFilter: remotePrefix + t.pattern,
        localPrefix,
        remotePrefix,
      };
    });
    this.inbound = this.rules.filter((r) => r.direction !== 'out');
    this.outbound = this.rules.filter((r) => r.direction !== 'in');
  }

  /** The outbound rule a local topic travels by, or undefined when none matches. */
  outboundRule(localTopic: string): TopicRule | undefined {
    for (const r of this.outbound) if (topicMatches(r.localFilter, localTopic)) return r;
    return undefined;
  }

  /** The inbound rule a remote topic travels by, or undefined when none matches. */
  inboundRule(remoteTopic: string): TopicRule | undefined {
    for (const r of this.inbound) if (topicMatches(r.remoteFilter, remoteTopic)) return r;
    return undefined;
  }
}

/** A local topic's name on the remote broker under `rule`. */
export function toRemote(rule: TopicRule, localTopic: string): string {
  if (rule.localPrefix === rule.remotePrefix) return localTopic;
  return rule.remotePrefix + localTopic.slice(rule.localPrefix.length);
}

/** A remote topic's name on the local broker under `rule`. */
export function toLocal(rule: TopicRule, remoteTopic: string): string {
  if (rule.localPrefix === rule.remotePrefix) return remoteTopic;
  return rule.localPrefix + remoteTopic.slice(rule.remotePrefix.length);
}
