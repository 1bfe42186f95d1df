/**
 * Retained messages indexed two ways: a Map from topic name to its trie node, so
 * set/get/delete and exact-filter subscriptions cost one lookup, and a trie over
 * topic levels, so `a/+/c` or `a/#` visit only the matching subtree instead of
 * scanning every retained message.
 */

const DOLLAR = 36; // '$'
const PLUS = 43; // '+'
const HASH = 35; // '#'

/** One topic level; holds a message when a retained topic ends here. */
class LevelNode<M> {
  children: Map<string, LevelNode<M>> | null = null;
  message: M | undefined = undefined;
  hasMessage = false;
  readonly parent: LevelNode<M> | null;
  readonly level: string;

  constructor(parent: LevelNode<M> | null, level: string) {
    this.parent = parent;
    this.level = level;
  }
}

function hasWildcard(filter: string): boolean {
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charCodeAt(i);
    if (c === PLUS || c === HASH) return true;
  }
  return false;
}

/** Retained messages by topic name, searchable by filter. */
export class RetainedIndex<M> {
  private readonly byTopic = new Map<string, LevelNode<M>>();
  private readonly root = new LevelNode<M>(null, '');
  private nodes = 0;

  /** Stores or replaces the retained message of a topic. */
  set(topic: string, message: M): void {
    const known = this.byTopic.get(topic);
    if (known !== undefined) {
      known.message = message;
      return;
    }
    let node = this.root;
    let pos = 0;
    for (;;) {
      let end = topic.indexOf('/', pos);
      if (end < 0) end = topic.length;
      const level = topic.slice(pos, end);
      if (node.children === null) node.children = new Map();
      let child = node.children.get(level);
      if (child === undefined) {
        child = new LevelNode<M>(node, level);
        node.children.set(level, child);
        this.nodes++;
      }
      node = child;
      if (end === topic.length) break;
      pos = end + 1;
    }
    node.message = message;
    node.hasMessage = true;
    this.byTopic.set(topic, node);
  }

  /** Drops a topic's retained message (a retained PUBLISH with an empty payload); true if one existed. */
  delete(topic: string): boolean {
    const node = this.byTopic.get(topic);
    if (node === undefined) return false;
    this.byTopic.delete(topic);
    node.message = undefined;
    node.hasMessage = false;
    let n: LevelNode<M> = node;
    while (n.parent !== null && !n.hasMessage && n.children === null) {
      const parent: LevelNode<M> = n.parent;
      parent.children!.delete(n.level);
      if (parent.children!.size === 0) parent.children = null;
      this.nodes--;
      n = parent;
    }
    return true;
  }

  /** The retained message of one topic. */
  get(topic: string): M | undefined {
    return this.byTopic.get(topic)?.message;
  }

  /** Appends every stored message whose topic matches the filter (with + and #, $ rule) to out; returns count. */
  match(filter: string, out: M[]): number {
    const before = out.length;
    if (!hasWildcard(filter)) {
      const node = this.byTopic.get(filter);
      if (node !== undefined) out.push(node.message as M);
      return out.length - before;
    }
    this.walk(this.root, filter, 0, out);
    return out.length - before;
  }

  /** Number of retained messages. */
  get size(): number {
    return this.byTopic.size;
  }

  /** Trie nodes currently allocated; exposed so tests can prove deletion leaves nothing behind. */
  get nodeCount(): number {
    return this.nodes;
  }

  /** Iterates (topic, message) pairs, e.g. to persist or list them. */
  *entries(): IterableIterator<[string, M]> {
    for (const [topic, node] of this.byTopic) yield [topic, node.message as M];
  }

  /** Removes everything. */
  clear(): void {
    this.byTopic.clear();
    this.root.children = null;
    this.nodes = 0;
  }

  /** Matches the filter levels from `pos` against the children of `node`. */
  private walk(node: LevelNode<M>, filter: string, pos: number, out: M[]): void {
    const atRoot = node === this.root;
    let end = filter.indexOf('/', pos);
    if (end < 0) end = filter.length;
    const isLast = end === filter.length;
    const single = end - pos === 1;
    if (single && filter.charCodeAt(pos) === HASH) {
      // `a/#` includes `a` itself; `#` at the root has no parent level to include.
      if (node.hasMessage) out.push(node.message as M);
      if (node.children !== null) {
        for (const child of node.children.values()) {
          // [MQTT-4.7.2-1] a leading wildcard does not reach $ topics.
          if (atRoot && child.level.charCodeAt(0) === DOLLAR) continue;
          collectAll(child, out);
        }
      }
      return;
    }
    const children = node.children;
    if (children === null) return;
    if (single && filter.charCodeAt(pos) === PLUS) {
      for (const child of children.values()) {
        if (atRoot && child.level.charCodeAt(0) === DOLLAR) continue;
        if (isLast) {
          if (child.hasMessage) out.push(child.message as M);
        } else this.walk(child, filter, end + 1, out);
      }
      return;
    }
    const child = children.get(filter.slice(pos, end));
    if (child === undefined) return;
    if (isLast) {
      if (child.hasMessage) out.push(child.message as M);
    } else this.walk(child, filter, end + 1, out);
  }
}

/** Appends the messages of a node and its whole subtree. */
function collectAll<M>(node: LevelNode<M>, out: M[]): void {
  if (node.hasMessage) out.push(node.message as M);
  if (node.children !== null) for (const child of node.children.values()) collectAll(child, out);
}
