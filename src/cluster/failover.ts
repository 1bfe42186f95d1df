/** What a node's session replication needs of its links, and how a session comes back when its owner died. */

import type { Session } from '../broker/session.js';
import { installSession } from './handover.js';
import type { ClusterHost } from './host.js';
import type { Mesh } from './mesh.js';
import type { PeerLink } from './peer-link.js';
import { Replicas } from './replicas.js';

/** What fail-over needs of its cluster node. */
export interface FailoverLink {
  readonly host: ClusterHost;
  readonly mesh: Mesh;
  /** The hand-over timeout: the longest a restore or a PUBACK waits for another node, ms. */
  readonly timeout: number;
  /** Counts a session restored from a replica. */
  restored(): void;
  /** This node's claim epoch of a client id (0 when unknown). */
  epochOf(clientId: string): number;
  /** A session from dead node `old` was restored here (with its watermark, when the copy had one). */
  adopted(s: Session, old: string, marks: Record<string, number> | undefined): void;
}

/**
 * Session replication seen from the links: which nodes may hold copies, what
 * acknowledgements wait for, and restoring a session whose owner died.
 */
export class Failover {
  /** The replicas of this node's sessions, and the copies it keeps for others. */
  readonly replicas: Replicas;
  private readonly link: FailoverLink;
  /** Nodes that did not acknowledge in time: not waited for until they acknowledge again. */
  private readonly stalled = new Set<string>();

  constructor(link: FailoverLink) {
    this.link = link;
    const mesh = link.mesh;
    this.replicas = new Replicas({
      host: link.host,
      timeout: link.timeout,
      liveNodes: () => this.liveNodes(),
      linkTo: (id) => mesh.links.get(id),
      links: () => mesh.links.values(),
      epochOf: (id) => link.epochOf(id),
      applied: () => {
        const w: Record<string, number> = {};
        for (const p of mesh.server.peers.values()) w[p.boot] = p.applied;
        return w;
      },
    });
  }

  /**
   * Other nodes a session may be replicated to: those with a link up in
   * either direction. A node killed closes both at once, so its sessions'
   * copies move to another node without waiting for the TTL.
   */
  liveNodes(): string[] {
    const out: string[] = [];
    for (const l of this.link.mesh.links.values()) if (!this.unreachable(l.id)) out.push(l.id);
    return out;
  }

  /** Whether both links with node `id` are down (a node killed closes them at once). */
  unreachable(id: string): boolean {
    const mesh = this.link.mesh;
    const l = mesh.links.get(id);
    const p = mesh.server.peers.get(id);
    const inbound = p !== undefined && !p.gone && p.socket !== undefined && !p.socket.destroyed;
    return (l === undefined || !l.connected) && !inbound;
  }

  /**
   * When a link frame from another node may be acknowledged: once durable here
   * and on the replicas of the sessions it reached (both asked at once, so the
   * two commits overlap).
   */
  linkFrameDurable(done: () => void): void {
    let left = 2;
    const step = () => {
      if (--left === 0) done();
    };
    this.replicas.whenReplicated(step);
    this.link.host.whenDurable(step);
  }

  /**
   * What a client's acknowledgement waits for in `commit` mode besides the
   * store: the replicas of the sessions it reached here, and the nodes it was
   * forwarded to (which acknowledge once it is on their sessions' replicas).
   * A node that does not answer within the hand-over timeout is not waited for.
   */
  replyGate(done: () => void): void {
    let left = 2;
    const step = () => {
      if (--left === 0) done();
    };
    this.replicas.whenReplicated(step);
    const wait = this.link.timeout;
    for (const l of this.link.mesh.links.values()) {
      if (!l.connected || l.unacked === 0 || this.stalled.has(l.id)) continue;
      left++;
      l.drain(wait).then((ok) => {
        if (!ok) this.stall(l);
        step();
      });
    }
    step();
  }

  /**
   * A node did not acknowledge within the hand-over timeout (frozen, or
   * overloaded): acknowledgements stop waiting for it, so it costs publishers
   * one timeout, not one per commit window, until it acknowledges again.
   */
  private stall(l: PeerLink): void {
    if (this.stalled.has(l.id)) return;
    this.stalled.add(l.id);
    const watch = (): void => {
      if (this.link.mesh.links.get(l.id) !== l) {
        this.stalled.delete(l.id);
        return;
      }
      l.drain(this.link.timeout).then((ok) => {
        if (ok) this.stalled.delete(l.id);
        else watch();
      });
    };
    watch();
  }

  /** Installs the session of a client id whose owner died, from a replica, if one has it. */
  async restore(clientId: string, old: string): Promise<void> {
    const host = this.link.host;
    try {
      const h = await this.replicas.fetch(clientId, old);
      if (h === undefined) {
        host.log?.warn(`cluster: no replica of ${clientId}'s session (owner ${old} is gone)`);
        return;
      }
      const stale = host.session(clientId);
      if (stale !== undefined && !stale.online) {
        stale.takeWill();
        host.destroySession(stale);
      }
      const s = installSession(host, h.session);
      this.link.restored();
      this.link.adopted(s, old, h.marks);
      host.log?.info(
        `cluster: restored ${clientId}'s session from a replica (owner ${old} is gone)`,
      );
    } catch (err) {
      host.log?.warn({ err, clientId }, 'cluster: could not restore a session');
    }
  }
}
