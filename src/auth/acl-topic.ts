/**
 * Topic matching for ACL entries. An ACL topic is kept pre-split into levels so
 * a check walks the topic string once with indexOf, allocating nothing.
 */

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
 * Whether a topic name matches an ACL topic (a filter given as levels), with
 * MQTT's rule that wildcards at the first level do not match `$` topics.
 */
export function levelsMatchTopic(levels: readonly string[], topic: string): boolean {
  if (topic.length === 0) return false;
  const first = levels[0]!;
  if ((topic.charCodeAt(0) === 36) !== (first.charCodeAt(0) === 36)) return false;
  let pos = 0;
  const n = levels.length;
  for (let i = 0; i < n; i++) {
    const level = levels[i]!;
    if (level === '#') return true;
    if (pos > topic.length) return false;
    let end = topic.indexOf('/', pos);
    if (end === -1) end = topic.length;
    if (level !== '+' && (end - pos !== level.length || !topic.startsWith(level, pos))) {
      return false;
    }
    pos = end + 1;
  }
  return pos === topic.length + 1;
}

/**
 * Whether every topic a subscription filter can match is also matched by the
 * ACL topic, i.e. the filter lies within it (`a/+/c` lies within `a/#`, `a/#`
 * does not lie within `a/+`).
 */
export function levelsCoverFilter(levels: readonly string[], filter: string): boolean {
  if (filter.length === 0) return false;
  const first = levels[0]!;
  if ((filter.charCodeAt(0) === 36) !== (first.charCodeAt(0) === 36)) return false;
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
