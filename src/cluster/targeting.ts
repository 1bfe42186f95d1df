import type { ClusterHost } from './host.js';
import type { RemoteNode, RemoteRoute, RemoteRoutes } from './remote-routes.js';

/**
 * Which other nodes get a message published here: every node with a matching
 * plain route, once; for each matching shared group without a member here, one
 * of the nodes with members (round robin per group), with the groups it was
 * assigned noted on the node (`RemoteNode.shares`). One trie walk, no
 * allocation unless shared groups match.
 */
export class Targeting {
  private readonly remote: RemoteRoutes;
  private readonly host: ClusterHost;
  private stamp = 0;
  private readonly scratch: RemoteRoute[] = [];
  private readonly shareCursor = new Map<string, number>();

  constructor(remote: RemoteRoutes, host: ClusterHost) {
    this.remote = remote;
    this.host = host;
  }

  /** Fills `targets` with the nodes for `topic`; returns how many. */
  select(topic: string, targets: RemoteNode[]): number {
    const out = this.scratch;
    const n = this.remote.trie.matchInto(topic, out);
    if (n === 0) return 0;
    const stamp = ++this.stamp;
    let nt = 0;
    let groups: Map<string, RemoteRoute[]> | undefined;
    for (let i = 0; i < n; i++) {
      const r = out[i]!;
      const node = r.node;
      if (r.group === undefined) {
        if (node.stamp !== stamp) {
          node.stamp = stamp;
          node.shares = undefined;
          targets[nt++] = node;
        }
        continue;
      }
      // A group with a member here was served here.
      if (this.host.hasLocalRoute(r.topicFilter, r.localKey)) continue;
      groups ??= new Map();
      const list = groups.get(r.shareKey);
      if (list === undefined) groups.set(r.shareKey, [r]);
      else list.push(r);
    }
    if (groups === undefined) return nt;
    for (const [key, list] of groups) {
      const c = this.shareCursor.get(key) ?? 0;
      const r = list[c % list.length]!;
      this.shareCursor.set(key, (c + 1) % list.length);
      const node = r.node;
      if (node.stamp !== stamp) {
        node.stamp = stamp;
        node.shares = undefined;
        targets[nt++] = node;
      }
      (node.shares ??= []).push(key);
    }
    return nt;
  }
}
