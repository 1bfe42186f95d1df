import type { LinkAppliedRecord, StoredState } from './records.js';
import type { WriteBatch } from './write-batch.js';

/** Where the journal writes: the open commit window of the store (Persistence). */
interface JournalTarget {
  readonly batch: WriteBatch;
  touch(): void;
}

/** A restored outgoing stream: its id, where its numbering continues, and its unacknowledged frames. */
export interface RestoredStream {
  stream: string;
  /** The next sequence number to use (everything below may have been sent). */
  next: number;
  frames: Array<{ seq: number; kind: number; body: Buffer }>;
}

/** Watermarks of incoming streams untouched for this long are pruned at startup (ms). */
const APPLIED_KEPT_FOR = 7 * 24 * 3600 * 1000;

/**
 * What the cluster's links keep in the store, written into the same commit
 * windows as everything else (so in `commit` mode an acknowledgement waits for
 * them as it waits for a local delivery):
 *
 * - sender side: each frame that must survive this process (a forwarded
 *   QoS 1/2 message) until the receiving node acknowledges it, and per peer the
 *   stream id and the sequence numbers reserved, so a restarted node re-sends
 *   those frames under the same stream and numbers and the receiver recognises
 *   the ones it already applied;
 * - receiver side: per incoming stream the highest sequence number applied,
 *   written in the commit that holds the deliveries it made, so a restarted
 *   receiver does not apply a re-sent frame twice.
 */
export class LinkJournal {
  private readonly p: JournalTarget;
  private readonly streams = new Map<string, RestoredStream>();
  private readonly applied = new Map<string, LinkAppliedRecord>();

  constructor(p: JournalTarget) {
    this.p = p;
  }

  /** Takes what the store held for the links (at startup, before the cluster starts). */
  restore(state: StoredState): void {
    const now = Date.now();
    for (const [peer, r] of state.linkStreams ?? [])
      this.streams.set(peer, { stream: r.stream, next: r.limit, frames: [] });
    for (const { peer, seq, data } of state.linkFrames ?? []) {
      const s = this.streams.get(peer);
      // A frame without its stream cannot be re-sent under its numbers: it is garbage.
      if (s === undefined) this.p.batch.deleteLinkFrame(peer, seq);
      else s.frames.push({ seq, kind: data.kind, body: data.body });
    }
    for (const [stream, r] of state.linkApplied ?? []) {
      if (now - r.at > APPLIED_KEPT_FOR) this.p.batch.setLinkApplied(stream, null);
      else this.applied.set(stream, r);
    }
    this.p.touch();
  }

  /** The stream to `peer` restored from the store (handed out once). */
  takeStream(peer: string): RestoredStream | undefined {
    const s = this.streams.get(peer);
    this.streams.delete(peer);
    return s;
  }

  /** Peers with a restored stream not taken yet. */
  restoredPeers(): string[] {
    return [...this.streams.keys()];
  }

  /** Opens (or moves the reservation of) the outgoing stream to `peer`: numbers below `limit` may be used. */
  reserve(peer: string, stream: string, limit: number): void {
    this.p.batch.setLinkStream(peer, { stream, limit });
    this.p.touch();
  }

  /** Keeps a frame sent to `peer` until it is acknowledged. */
  keep(peer: string, seq: number, kind: number, body: Buffer): void {
    this.p.batch.putLinkFrame(peer, seq, { kind, body });
    this.p.touch();
  }

  /** The frame was acknowledged (or given up): it goes from the store. */
  release(peer: string, seq: number): void {
    this.p.batch.deleteLinkFrame(peer, seq);
    this.p.touch();
  }

  /** The stream to `peer` ended for good (the peer is gone): its record goes. */
  endStream(peer: string): void {
    this.p.batch.setLinkStream(peer, null);
    this.p.touch();
  }

  /** What was applied from an incoming stream before a restart (0 if nothing). */
  appliedOf(stream: string): number {
    return this.applied.get(stream)?.applied ?? 0;
  }

  /**
   * Frame `seq` of `stream` was applied. Written only when applying it wrote
   * something to this commit window (a stored delivery): a frame that changed
   * nothing stored has nothing a restart could duplicate.
   */
  noteApplied(stream: string, node: string, seq: number): void {
    const b = this.p.batch;
    const r = b.linkApplied.get(stream);
    if (r != null) {
      r.applied = seq;
      return;
    }
    if (b.empty) return;
    const rec = { node, applied: seq, at: Date.now() };
    b.setLinkApplied(stream, rec);
    // Known here too, so that a later stream of the same node prunes it (streamOpened).
    this.applied.set(stream, rec);
  }

  /** `node` now sends on `stream`: what was applied from its older streams is forgotten. */
  streamOpened(node: string, stream: string): void {
    for (const [s, r] of this.applied) {
      if (r.node !== node || s === stream) continue;
      this.applied.delete(s);
      this.p.batch.setLinkApplied(s, null);
      this.p.touch();
    }
  }
}
