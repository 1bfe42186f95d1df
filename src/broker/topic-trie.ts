/**
 * The subscription index: every topic filter the broker knows, and per filter the
 * entries of its subscribers. Matching a published topic is the hottest code in
 * the broker, so the layout serves `match` first:
 *
 * - Filters without wildcards sit in one Map keyed by the filter itself; a topic
 *   name is looked up there directly, so a broker with only exact subscriptions
 *   pays one Map.get per message and never touches the trie.
 * - Only filters with `+` or `#` go in the trie. Each node keeps its `+` child and
 *   its `#` entries in plain fields, so the walk never hashes a wildcard level.
 * - Each filter's entries live in a Bucket: the first inline, more in a dense
 *   array, so collecting them is a tight loop with no iterator objects.
 * - The broker's hot path is `matchInto`, which reuses the result array's storage;
 *   `match` keeps the append-style API for everything else.
 */

const DOLLAR = 36; // '$'
const PLUS = 43; // '+'
const HASH = 35; // '#'

/** Past this many keys a bucket indexes them in a Map; below it a linear scan is faster and smaller. */
const INDEX_THRESHOLD = 8;

/**
 * The entries of one filter. Most filters have a single subscriber, so the first
 * entry sits inline in the bucket (one pointer hop from the Map on the hot path);
 * from two entries on they move to dense arrays, and past INDEX_THRESHOLD a Map
 * indexes the keys. Invariant: `vals === null` exactly when size <= 1.
 */
class Bucket<V> {
  readonly filter: string;
  /** The trie node that owns this bucket (null for exact filters, which live in the Map only). */
  readonly node: TrieNode<V> | null;
  size = 0;
  k0: string | undefined = undefined;
  v0: V | undefined = undefined;
  keys: string[] | null = null;
  vals: V[] | null = null;
  private index: Map<string, number> | null = null;

  constructor(filter: string, node: TrieNode<V> | null) {
    this.filter = filter;
    this.node = node;
  }

  find(key: string): number {
    const keys = this.keys;
    if (keys === null) return this.size === 1 && this.k0 === key ? 0 : -1;
    if (this.index !== null) return this.index.get(key) ?? -1;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return i;
    return -1;
  }

  keyAt(i: number): string {
    return this.keys === null ? this.k0! : this.keys[i]!;
  }

  valueAt(i: number): V {
    return this.vals === null ? this.v0! : this.vals[i]!;
  }

  /** Returns the replaced value, or undefined when the key is new (size tells which). */
  set(key: string, value: V): V | undefined {
    const i = this.find(key);
    if (i >= 0) {
      const prev = this.valueAt(i);
      if (this.vals === null) this.v0 = value;
      else this.vals[i] = value;
      return prev;
    }
    if (this.size === 0) {
      this.k0 = key;
      this.v0 = value;
      this.size = 1;
      return undefined;
    }
    if (this.keys === null || this.vals === null) {
      this.keys = [this.k0!, key];
      this.vals = [this.v0!, value];
      this.k0 = undefined;
      this.v0 = undefined;
      this.size = 2;
      return undefined;
    }
    const at = this.keys.length;
    this.keys.push(key);
    this.vals.push(value);
    this.size = at + 1;
    if (this.index !== null) this.index.set(key, at);
    else if (this.size > INDEX_THRESHOLD) {
      this.index = new Map();
      for (let j = 0; j < this.keys.length; j++) this.index.set(this.keys[j]!, j);
    }
    return undefined;
  }

  /** Swap-remove: subscriber order within a filter carries no meaning, O(1) removal does. */
  delete(i: number): V {
    const keys = this.keys;
    const vals = this.vals;
    if (keys === null || vals === null) {
      const removed = this.v0!;
      this.k0 = undefined;
      this.v0 = undefined;
      this.size = 0;
      return removed;
    }
    const removed = vals[i]!;
    const removedKey = keys[i]!;
    const last = keys.length - 1;
    if (i !== last) {
      keys[i] = keys[last]!;
      vals[i] = vals[last]!;
      if (this.index !== null) this.index.set(keys[i]!, i);
    }
    keys.pop();
    vals.pop();
    this.size = last;
    if (this.index !== null) {
      this.index.delete(removedKey);
      if (last <= INDEX_THRESHOLD / 2) this.index = null;
    }
    if (last === 1) {
      this.k0 = keys[0];
      this.v0 = vals[0];
      this.keys = null;
      this.vals = null;
    }
    return removed;
  }
}

/** One level of the wildcard trie. */
class TrieNode<V> {
  /** Literal child levels; created on first use because most nodes of a wide trie are leaves. */
  children: Map<string, TrieNode<V>> | null = null;
  /** The `+` child level. */
  plus: TrieNode<V> | null = null;
  /** Entries of the filter ending at this node's `#` child (`a/#` lives on node `a`). */
  hash: Bucket<V> | null = null;
  /** Entries of the filter ending exactly at this node (it contains a `+` somewhere). */
  leaf: Bucket<V> | null = null;
  readonly parent: TrieNode<V> | null;
  /** This level's text in the parent ('+' for the plus child), for pruning. */
  readonly level: string;

  constructor(parent: TrieNode<V> | null, level: string) {
    this.parent = parent;
    this.level = level;
  }

  isEmpty(): boolean {
    return this.leaf === null && this.hash === null && this.plus === null && this.children === null;
  }
}

/** True when the filter holds `+` or `#`; valid filters only hold them as whole levels. */
function hasWildcard(filter: string): boolean {
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charCodeAt(i);
    if (c === PLUS || c === HASH) return true;
  }
  return false;
}

/** Writes the bucket's values into out from index n and returns the next free index. */
function writeAll<V>(bucket: Bucket<V>, out: V[], n: number): number {
  const vals = bucket.vals;
  if (vals === null) {
    out[n] = bucket.v0 as V;
    return n + 1;
  }
  for (let i = 0; i < vals.length; i++) out[n++] = vals[i]!;
  return n;
}

/** Subscription index: topic filters (with + and #) → subscriber entries, keyed per filter by a string key (client id, or "$share/group" for shared groups). */
export class TopicTrie<V> {
  private readonly exact = new Map<string, Bucket<V>>();
  private readonly wild = new Map<string, Bucket<V>>();
  private readonly root = new TrieNode<V>(null, '');
  /** The current topic's levels during a match; reused so matching allocates only the level strings. */
  private readonly levels: string[] = [];
  private count = 0;
  private nodes = 0;

  /** Adds or replaces the entry for (filter, key); returns the previous value or undefined. */
  add(filter: string, key: string, value: V): V | undefined {
    let bucket = this.exact.get(filter) ?? this.wild.get(filter);
    if (bucket === undefined) {
      if (hasWildcard(filter)) {
        bucket = this.createWildBucket(filter);
        this.wild.set(filter, bucket);
      } else {
        bucket = new Bucket<V>(filter, null);
        this.exact.set(filter, bucket);
      }
    }
    const sizeBefore = bucket.size;
    const prev = bucket.set(key, value);
    if (bucket.size !== sizeBefore) this.count++;
    return prev;
  }

  /** Removes the entry for (filter, key); returns it or undefined. Prunes empty nodes. */
  remove(filter: string, key: string): V | undefined {
    let map = this.exact;
    let bucket = map.get(filter);
    if (bucket === undefined) {
      map = this.wild;
      bucket = map.get(filter);
      if (bucket === undefined) return undefined;
    }
    const i = bucket.find(key);
    if (i < 0) return undefined;
    const removed = bucket.delete(i);
    this.count--;
    if (bucket.size === 0) {
      map.delete(filter);
      if (bucket.node !== null) this.detach(bucket);
    }
    return removed;
  }

  /** Looks up one entry. */
  get(filter: string, key: string): V | undefined {
    const bucket = this.exact.get(filter) ?? this.wild.get(filter);
    if (bucket === undefined) return undefined;
    const i = bucket.find(key);
    return i < 0 ? undefined : bucket.valueAt(i);
  }

  /** True when at least one entry exists for the filter (any key). */
  has(filter: string): boolean {
    return this.exact.has(filter) || this.wild.has(filter);
  }

  /**
   * Appends every value whose filter matches the topic name to `out`; returns the
   * number appended. Note that resetting a reused array with `out.length = 0` makes
   * V8 free its storage, so each call then regrows it: per-message code should use
   * `matchInto`.
   */
  match(topic: string, out: V[]): number {
    const before = out.length;
    return this.collect(topic, out, before) - before;
  }

  /**
   * Writes the matching values into `out` from index 0 and returns how many; the
   * caller reads out[0..count). Unlike `out.length = 0` + match, which makes V8
   * drop the array's backing store and regrow it on every call, this only ever
   * grows `out`, so a reused array costs no allocation at all. Slots past the
   * count hold stale values from earlier calls.
   */
  matchInto(topic: string, out: V[]): number {
    return this.collect(topic, out, 0);
  }

  private collect(topic: string, out: V[], n: number): number {
    const bucket = this.exact.get(topic);
    if (bucket !== undefined) n = writeAll(bucket, out, n);
    if (this.wild.size === 0) return n;
    const depth = this.tokenize(topic);
    // [MQTT-4.7.2-1] a leading wildcard never matches a $ topic: skip the root's + and #.
    if (topic.charCodeAt(0) !== DOLLAR) return this.walk(this.root, 0, depth, out, n);
    const child = this.root.children?.get(this.levels[0]!);
    return child === undefined ? n : this.walk(child, 1, depth, out, n);
  }

  /**
   * Splits the topic into the reused `levels` array and returns the level count.
   * Slicing each level once (instead of once per trie branch that looks at it) also
   * lets V8 hash each level string once for all the Map lookups that follow.
   */
  private tokenize(topic: string): number {
    const levels = this.levels;
    const len = topic.length;
    let count = 0;
    let pos = 0;
    for (;;) {
      const end = topic.indexOf('/', pos);
      if (end < 0) {
        levels[count++] = pos === 0 ? topic : topic.slice(pos);
        return count;
      }
      levels[count++] = topic.slice(pos, end);
      pos = end + 1;
      if (pos === len) {
        levels[count++] = '';
        return count;
      }
    }
  }

  /** Number of (filter, key) entries. */
  get size(): number {
    return this.count;
  }

  /** Number of distinct filters with at least one entry. */
  get filterCount(): number {
    return this.exact.size + this.wild.size;
  }

  /** Trie nodes currently allocated for wildcard filters; exposed so tests can prove removal leaves nothing behind. */
  get nodeCount(): number {
    return this.nodes;
  }

  /** Iterates all entries (for $SYS counts, persistence, admin API). */
  *entries(): IterableIterator<[filter: string, key: string, value: V]> {
    for (const map of [this.exact, this.wild]) {
      for (const bucket of map.values()) {
        // Copy so callers may remove while iterating.
        const n = bucket.size;
        const keys: string[] = [];
        const vals: V[] = [];
        for (let i = 0; i < n; i++) {
          keys.push(bucket.keyAt(i));
          vals.push(bucket.valueAt(i));
        }
        for (let i = 0; i < n; i++) yield [bucket.filter, keys[i]!, vals[i]!];
      }
    }
  }

  /** Iterates the distinct filters and how many entries each holds. */
  *filters(): IterableIterator<[filter: string, entries: number]> {
    for (const b of this.exact.values()) yield [b.filter, b.size];
    for (const b of this.wild.values()) yield [b.filter, b.size];
  }

  /** Removes everything. */
  clear(): void {
    this.exact.clear();
    this.wild.clear();
    this.root.children = null;
    this.root.plus = null;
    this.root.hash = null;
    this.root.leaf = null;
    this.count = 0;
    this.nodes = 0;
  }

  /**
   * Walks the wildcard trie over `levels[depth..count)`. Follows the literal path in
   * a loop and recurses only into `+` branches.
   */
  private walk(node: TrieNode<V>, depth: number, count: number, out: V[], n: number): number {
    const levels = this.levels;
    for (;;) {
      // `a/#` matches `a` itself and everything below it.
      if (node.hash !== null) n = writeAll(node.hash, out, n);
      if (depth === count) return node.leaf === null ? n : writeAll(node.leaf, out, n);
      if (node.plus !== null) n = this.walk(node.plus, depth + 1, count, out, n);
      const children = node.children;
      if (children === null) return n;
      const child = children.get(levels[depth]!);
      if (child === undefined) return n;
      node = child;
      depth++;
    }
  }

  private createWildBucket(filter: string): Bucket<V> {
    let node = this.root;
    let pos = 0;
    const len = filter.length;
    for (;;) {
      let end = filter.indexOf('/', pos);
      if (end < 0) end = len;
      const isLast = end === len;
      if (isLast && end - pos === 1 && filter.charCodeAt(pos) === HASH) {
        const bucket = new Bucket<V>(filter, node);
        node.hash = bucket;
        return bucket;
      }
      if (end - pos === 1 && filter.charCodeAt(pos) === PLUS) {
        if (node.plus === null) {
          node.plus = new TrieNode<V>(node, '+');
          this.nodes++;
        }
        node = node.plus;
      } else {
        const level = filter.slice(pos, end);
        if (node.children === null) node.children = new Map();
        let child = node.children.get(level);
        if (child === undefined) {
          child = new TrieNode<V>(node, level);
          node.children.set(level, child);
          this.nodes++;
        }
        node = child;
      }
      if (isLast) {
        const bucket = new Bucket<V>(filter, node);
        node.leaf = bucket;
        return bucket;
      }
      pos = end + 1;
    }
  }

  /** Unhooks an emptied bucket and prunes the nodes that no longer lead anywhere. */
  private detach(bucket: Bucket<V>): void {
    let node = bucket.node!;
    if (node.hash === bucket) node.hash = null;
    else node.leaf = null;
    while (node.parent !== null && node.isEmpty()) {
      const parent = node.parent;
      if (parent.plus === node) parent.plus = null;
      else {
        parent.children!.delete(node.level);
        if (parent.children!.size === 0) parent.children = null;
      }
      this.nodes--;
      node = parent;
    }
  }
}
