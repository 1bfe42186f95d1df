/**
 * Topic matching for ACL entries: the broker's own filter matching, plus the
 * checks only an ACL file needs (entry validity, filter coverage).
 */
import { topicMatches } from '../protocol/topic.js';

/** What a client wants to do with a topic: receive a message, publish one, or subscribe with a filter. */
export type AclAccess = 'read' | 'write' | 'subscribe';

/** Deepest ACL topic Mosquitto accepts (its TOPIC_HIERARCHY_LIMIT, counted in `/` separators). */
const MAX_SEPARATORS = 200;
/** Longest topic an MQTT string can carry. */
const MAX_LENGTH = 65535;

/** Why an ACL topic is not a valid topic filter, or undefined if it is. */
export function aclTopicProblem(topic: string): string | undefined {
  if (topic.length > MAX_LENGTH) return 'topic longer than 65535 characters';
  let separators = 0;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 47 /* / */) {
      separators++;
    } else if (c === 43 /* + */ || c === 35 /* # */) {
      const before = i === 0 || topic.charCodeAt(i - 1) === 47;
      const after = i + 1 === topic.length || topic.charCodeAt(i + 1) === 47;
      if (!before || !after) return `'${topic[i]}' must occupy a whole topic level`;
      if (c === 35 && i + 1 !== topic.length) return "'#' must be the last topic level";
    }
  }
  if (separators > MAX_SEPARATORS) return `more than ${MAX_SEPARATORS} topic levels`;
  return undefined;
}

/**
 * Whether a topic name matches an ACL topic: the broker's own filter matching
 * (`topicMatches`, so `$` topics escape leading wildcards alike), except that an
 * empty topic matches nothing, as Mosquitto's mosquitto_topic_matches_sub answers.
 */
export function aclMatchesTopic(aclTopic: string, topic: string): boolean {
  return topic.length !== 0 && topicMatches(aclTopic, topic);
}

/**
 * Whether every topic a subscription filter can match is also matched by the
 * ACL topic, i.e. the filter lies within it (`a/+/c` lies within `a/#`, `a/#`
 * does not lie within `a/+`).
 */
export function aclCoversFilter(aclTopic: string, filter: string): boolean {
  if (filter.length === 0) return false;
  if ((filter.charCodeAt(0) === 36) !== (aclTopic.charCodeAt(0) === 36)) return false;
  const levels = aclTopic.split('/');
  const parts = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === '#') return true;
    const part = parts[i];
    if (part === undefined || part === '#') return false;
    if (level !== '+' && level !== part) return false;
  }
  return parts.length === levels.length;
}
