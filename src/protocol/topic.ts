/**
 * Topic names and topic filters (MQTT 3.1.1 and 5.0 section 4.7): validity rules,
 * wildcard matching and `$share` parsing. Pure string functions shared by the
 * decoder, the router and the client.
 */

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/** Largest UTF-8 encoded string length the wire format can carry. */
export const MAX_STRING_BYTES = 65_535;

/** A topic name that can be published to: non-empty, no wildcards, no U+0000, fits a string. */
export function isValidTopicName(topic: string): boolean {
  const n = topic.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = topic.charCodeAt(i);
    if (c === PLUS || c === HASH || c === 0) return false;
  }
  return n <= MAX_STRING_BYTES / 3 || Buffer.byteLength(topic) <= MAX_STRING_BYTES;
}

/**
 * A topic filter that can be subscribed to: non-empty, `+` only as a whole level,
 * `#` only as the whole last level [MQTT-4.7.1-2] [MQTT-4.7.1-3], no U+0000.
 */
export function isValidTopicFilter(filter: string): boolean {
  const n = filter.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c === PLUS) {
      if (i > 0 && filter.charCodeAt(i - 1) !== SLASH) return false;
      if (i + 1 < n && filter.charCodeAt(i + 1) !== SLASH) return false;
    } else if (c === HASH) {
      if (i !== n - 1) return false;
      if (i > 0 && filter.charCodeAt(i - 1) !== SLASH) return false;
    } else if (c === 0) {
      return false;
    }
  }
  return n <= MAX_STRING_BYTES / 3 || Buffer.byteLength(filter) <= MAX_STRING_BYTES;
}

/**
 * Whether `topic` matches `filter`. `+` matches one level, `#` the rest (including
 * the parent: `a/#` matches `a`). Filters starting with a wildcard never match
 * topics starting with `$` [MQTT-4.7.2-1]. Both arguments are assumed valid.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const fn = filter.length;
  const tn = topic.length;
  if (tn > 0 && topic.charCodeAt(0) === DOLLAR && fn > 0) {
    const f0 = filter.charCodeAt(0);
    if (f0 === PLUS || f0 === HASH) return false;
  }
  let fi = 0;
  let ti = 0;
  while (fi < fn) {
    const fc = filter.charCodeAt(fi);
    if (fc === HASH) return true;
    if (fc === PLUS) {
      // Consume one whole topic level (possibly empty).
      while (ti < tn && topic.charCodeAt(ti) !== SLASH) ti++;
      fi++;
    } else {
      if (ti >= tn) {
        // Topic exhausted: only a trailing "/#" may still match (the parent level).
        return fc === SLASH && fi + 2 === fn && filter.charCodeAt(fi + 1) === HASH;
      }
      if (fc !== topic.charCodeAt(ti)) return false;
      fi++;
      ti++;
    }
  }
  return ti === tn;
}

/** Prefix of MQTT 5 shared subscriptions (section 4.8.2). */
export const SHARED_PREFIX = '$share/';

/**
 * Parses `$share/{group}/{filter}`. Returns undefined when the filter is not a
 * shared one, 'invalid' when the group is empty or holds a wildcard or the inner
 * filter is missing or invalid [MQTT-4.8.2-1] [MQTT-4.8.2-2]. Never throws.
 */
export function parseSharedSubscription(
  filter: string,
): { group: string; filter: string } | 'invalid' | undefined {
  if (!filter.startsWith(SHARED_PREFIX)) return undefined;
  const slash = filter.indexOf('/', SHARED_PREFIX.length);
  if (slash < 0) return 'invalid';
  const group = filter.slice(SHARED_PREFIX.length, slash);
  if (group.length === 0 || group.includes('+') || group.includes('#')) return 'invalid';
  const inner = filter.slice(slash + 1);
  if (!isValidTopicFilter(inner)) return 'invalid';
  return { group, filter: inner };
}
