import { TopicTrie } from '../broker/topic-trie.js';
import { parseSharedSubscription } from '../protocol/topic.js';

/** One other node of the cluster, as this node knows it. */
export class RemoteNode {
  readonly id: string;
  /** Route keys it announced. */
  readonly keys = new Set<string>();
  /** Routing scratch: stamp of the last forward pass that chose this node. */
  stamp = 0;
  /** Routing scratch: shared groups ("group/filter") assigned to it in that pass. */
  shares: string[] | undefined = undefined;

  constructor(id: string) {
    this.id = id;
  }
}

/** A route of another node: a plain filter, or one shared group with members there. */
export interface RemoteRoute {
  readonly node: RemoteNode;
  readonly topicFilter: string;
  /** Shared group name, undefined for a plain subscription. */
  readonly group: string | undefined;
  /** The key of the local router's entry for the same group (`$share/{group}`). */
  readonly localKey: string;
  /** What the receiver matches its groups against: `{group}/{filter}`. */
  readonly shareKey: string;
}

/**
 * Every other node's routes in one TopicTrie keyed by node (plain filters) or
 * node + group (shared groups), so one `matchInto` tells which nodes want a
 * message: exact filters are a Map lookup, and a topic nobody elsewhere
 * subscribed to costs no Redis traffic at all.
 */
export class RemoteRoutes {
  readonly trie = new TopicTrie<RemoteRoute>();
  readonly nodes = new Map<string, RemoteNode>();

  /** The node with this id, created on first mention. */
  node(id: string): RemoteNode {
    let n = this.nodes.get(id);
    if (n === undefined) {
      n = new RemoteNode(id);
      this.nodes.set(id, n);
    }
    return n;
  }

  /** Adds a route key announced by a node. */
  add(id: string, key: string): void {
    const n = this.node(id);
    if (n.keys.has(key)) return;
    n.keys.add(key);
    const r = parseKey(n, key);
    if (r !== undefined) this.trie.add(r.topicFilter, trieKey(n, r.group), r);
  }

  /** Removes a route key of a node. */
  remove(id: string, key: string): void {
    const n = this.nodes.get(id);
    if (n === undefined || !n.keys.delete(key)) return;
    const r = parseKey(n, key);
    if (r !== undefined) this.trie.remove(r.topicFilter, trieKey(n, r.group));
  }

  /** Number of routes known, over all nodes. */
  get size(): number {
    let n = 0;
    for (const node of this.nodes.values()) n += node.keys.size;
    return n;
  }

  /**
   * Forgets a node and all its routes (it left, died, or re-announces from
   * scratch); `onlyShared`: only its shared groups (the node is gone, its plain
   * routes are kept a little longer, see Orphans).
   */
  drop(id: string, onlyShared = false): void {
    const n = this.nodes.get(id);
    if (n === undefined) return;
    for (const k of [...n.keys])
      if (!onlyShared || parseSharedSubscription(k) !== undefined) this.remove(id, k);
    if (!onlyShared) this.nodes.delete(id);
  }
}

function trieKey(n: RemoteNode, group: string | undefined): string {
  return group === undefined ? n.id : `${n.id}\0${group}`;
}

function parseKey(node: RemoteNode, key: string): RemoteRoute | undefined {
  const shared = parseSharedSubscription(key);
  if (shared === undefined) {
    return { node, topicFilter: key, group: undefined, localKey: '', shareKey: '' };
  }
  if (shared === 'invalid') return undefined;
  const { group, filter } = shared;
  return {
    node,
    topicFilter: filter,
    group,
    localKey: `$share/${group}`,
    shareKey: `${group}/${filter}`,
  };
}
