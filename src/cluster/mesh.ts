import { randomBytes } from 'node:crypto';
import type { LinkJournal } from '../store/link-journal.js';
import type { LinkInput } from './host.js';
import { LinkServer } from './link-server.js';
import type { DataKind, Hello } from './link-wire.js';
import { type LinkCounters, PeerLink } from './peer-link.js';

/** What the mesh hands to its cluster node. */
export interface MeshOwner {
  readonly counters: LinkCounters;
  /** Frames kept per peer until acknowledged. */
  readonly maxOutbox: number;
  /** Milliseconds without a word from a node before it counts as gone. */
  readonly nodeTtl: number;
  /** Applies a DATA frame from another node (in order, once per sender process). */
  data(from: string, kind: DataKind, body: Buffer, input: LinkInput): void;
  /** A link that held publishers got acknowledgements. */
  drained(link: PeerLink): void;
  /** A link to `link.id` is up: send it the route snapshot. */
  linkUp(link: PeerLink): void;
  /** A node went silent for longer than the TTL, or left. */
  nodeGone(id: string): void;
  /** Whether the frames kept for a gone node were handed on as orphans (so closing its link loses none). */
  handedOff(id: string): boolean;
  whenDurable(done: () => void): void;
  duplicate(): void;
  warn(text: string, err?: unknown): void;
  /** Where links keep unacknowledged frames and watermarks; none without a store. */
  readonly journal: LinkJournal | undefined;
}

/**
 * The direct links between this node and every other node: one outgoing link
 * per node for what this node sends (with its outbox), the link server for
 * what the others send. Liveness is decided here, from what arrives on the
 * links, never from a Redis reply: a node is gone when nothing came from it for
 * a TTL (pings every third of it), or when it says bye.
 */
export class Mesh {
  /** Outgoing links by node id. */
  readonly links = new Map<string, PeerLink>();
  readonly server: LinkServer;
  private readonly owner: MeshOwner;
  private readonly self: Hello;
  private generation = 0;
  /** Nodes found silent at the last tick. */
  private readonly suspects = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** When the link listener opened: restored streams whose peer never shows up are given up 10 TTLs later. */
  private since = 0;

  constructor(owner: MeshOwner, nodeId: string) {
    this.owner = owner;
    // Each process gets a boot id: a restarted node starts its sequence numbers afresh.
    this.self = { n: nodeId, b: randomBytes(6).toString('hex'), h: '', p: 0 };
    this.server = new LinkServer({
      hello: (h) => this.ensure(h.n, h.h, h.p),
      data: (from, kind, body, input) => owner.data(from, kind, body, input),
      whenDurable: (done) => owner.whenDurable(done),
      duplicate: () => owner.duplicate(),
      warn: (t, e) => owner.warn(t, e),
      journal: owner.journal,
    });
  }

  /** This process's boot id (tells a restarted node from its predecessor). */
  get boot(): string {
    return this.self.b;
  }

  /** Listens for links; `advertise` is the address the others dial. Returns the port. */
  async listen(host: string, port: number, advertise: string): Promise<number> {
    const p = await this.server.listen(host, port);
    this.self.h = advertise;
    this.self.p = p;
    this.since = Date.now();
    const every = Math.max(50, Math.floor(this.owner.nodeTtl / 3));
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
    return p;
  }

  /** Where this node's link listens, as announced. */
  get address(): { h: string; p: number } {
    return { h: this.self.h, p: this.self.p };
  }

  /**
   * The outgoing link to a node, dialled on first mention, or re-aimed when its
   * address changed (a restarted peer: same stream, same outbox). A link to a
   * node this node's previous process had frames for continues that stream.
   */
  ensure(id: string, host: string, port: number): PeerLink | undefined {
    if (id === this.self.n || port === 0) return undefined;
    const l = this.links.get(id);
    if (l !== undefined) {
      if (l.host !== host || l.port !== port) l.reaim(host, port);
      return l;
    }
    const owner = this.owner;
    const restored = owner.journal?.takeStream(id);
    // A new link is a new stream for the peer (own id): it must not take our old sequence numbers for duplicates.
    const stream = restored?.stream ?? `${this.self.b}.${++this.generation}`;
    const hello: Hello = { ...this.self, b: stream };
    const link = new PeerLink(
      {
        hello,
        maxOutbox: owner.maxOutbox,
        counters: owner.counters,
        journal: owner.journal,
        linkUp: (x) => owner.linkUp(x),
        drained: (x) => owner.drained(x),
        warn: (t, e) => owner.warn(t, e),
      },
      id,
      host,
      port,
      restored,
    );
    this.links.set(id, link);
    return link;
  }

  /** Closes this node's link to a node that left for good (what it still held is dropped, counted, and leaves the store). */
  closeLink(id: string): void {
    const l = this.links.get(id);
    if (l === undefined) return;
    this.links.delete(id);
    const lost = l.close(true);
    if (!this.owner.handedOff(id)) this.owner.counters.dropped += lost;
  }

  /**
   * Gives up the frames a previous process of this node kept for nodes that
   * have not shown up (in Redis or on a link) within 10 TTLs of the start:
   * they are dropped, counted and logged, and leave the store.
   */
  private dropUnclaimed(now: number): void {
    const j = this.owner.journal;
    if (j === undefined || now - this.since <= 10 * this.owner.nodeTtl) return;
    for (const peer of j.restoredPeers()) {
      const r = j.takeStream(peer)!;
      for (const f of r.frames) j.release(peer, f.seq);
      j.endStream(peer);
      this.owner.counters.dropped += r.frames.length;
      this.owner.warn(
        `cluster: node ${peer} is gone; dropping ${r.frames.length} frames kept for it since before the restart`,
      );
    }
  }

  /**
   * Pings every peer, and declares gone a node silent past its TTL on two
   * ticks in a row (what arrived meanwhile is read between them, so a busy
   * event loop here is not taken for a dead node there); twice the TTL while
   * its connection is still open. A node declared gone loses its routes here;
   * the link to it keeps its outbox and keeps dialling, so a node that was only
   * slow gets everything once it answers, and is closed (outbox dropped,
   * counted) after ten TTLs without an answer.
   */
  private tick(): void {
    const now = Date.now();
    const ttl = this.owner.nodeTtl;
    for (const l of this.links.values()) l.ping();
    for (const p of this.server.peers.values()) {
      if (p.gone) continue;
      const open = p.socket !== undefined && !p.socket.destroyed;
      if (now - p.lastHeard <= (open ? 2 * ttl : ttl)) {
        this.suspects.delete(p.id);
        continue;
      }
      if (!this.suspects.has(p.id)) {
        this.suspects.add(p.id);
        continue;
      }
      this.suspects.delete(p.id);
      this.owner.warn(
        `cluster: node ${p.id} silent for ${now - p.lastHeard} ms; dropping its routes`,
      );
      this.server.forget(p.id);
      this.owner.nodeGone(p.id);
    }
    for (const l of [...this.links.values()]) {
      const p = this.server.peers.get(l.id);
      if ((p === undefined || p.gone) && l.downSince !== 0 && now - l.downSince > 10 * ttl) {
        if (!this.owner.handedOff(l.id))
          this.owner.warn(`cluster: node ${l.id} unreachable; dropping ${l.unacked} frames for it`);
        this.closeLink(l.id);
        this.owner.nodeGone(l.id);
      }
    }
    this.dropUnclaimed(now);
  }

  /** Waits (up to `ms`) until every peer acknowledged what was sent to it. */
  async drain(ms: number): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.drain(ms)));
  }

  /** Closes every link and the server. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const l of this.links.values()) l.close();
    this.links.clear();
    await this.server.close();
  }
}
