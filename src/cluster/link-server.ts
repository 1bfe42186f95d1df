import { createServer, type Server, type Socket } from 'node:net';
import type { LinkJournal } from '../store/link-journal.js';
import type { LinkInput } from './host.js';
import { ackFrame, type DataKind, FrameReader, type Hello, LinkFrame } from './link-wire.js';

/** What this node knows of one other node's process sending to it. */
export interface InboundPeer {
  readonly id: string;
  /** Boot id of the sender's process: a new one starts sequence numbers afresh. */
  boot: string;
  /** Highest sequence number applied from this process (lower ones are duplicates). */
  applied: number;
  /** When anything last arrived from it (ms). */
  lastHeard: number;
  /** The socket acknowledgements go back on. */
  socket: Socket | undefined;
  /** Whether an acknowledgement is scheduled. */
  ackScheduled: boolean;
  /** Declared gone (its routes dropped) until it introduces itself again. */
  gone: boolean;
}

/** What the link server hands to its node. */
export interface LinkServerOwner {
  /** A node introduced itself (first link of a new process when `fresh`). */
  hello(h: Hello, fresh: boolean): void;
  /** Applies one DATA frame, in order, once per sender stream; `input` may be held while a queue it fed is full. */
  data(from: string, kind: DataKind, body: Buffer, input: LinkInput): void;
  /** Calls `done` once everything applied so far is durable (at once without a store). */
  whenDurable(done: () => void): void;
  /** Counts a DATA frame received again (a re-send after a fault) and dropped. */
  duplicate(): void;
  /** Something worth a warning happened. */
  warn(text: string, err?: unknown): void;
  /** Where what was applied per sender stream is kept across restarts; none without a store. */
  readonly journal: LinkJournal | undefined;
}

function ignore(): void {}

function resumeReader(input: Input): void {
  input.applyPending();
}

/**
 * One incoming link as the broker's flow gate sees it: held while a local
 * queue it fed is full, it stops applying frames and stops reading, so TCP
 * and then the sender's own flow control push back on the publishers there.
 */
class Input implements LinkInput {
  private held = false;
  private readonly socket: Socket;
  private readonly reader: FrameReader;

  constructor(socket: Socket, reader: FrameReader) {
    this.socket = socket;
    this.reader = reader;
  }

  holdInput(): void {
    this.held = true;
    this.reader.paused = true;
    this.socket.pause();
  }

  releaseInput(): void {
    this.held = false;
    this.socket.resume();
    // Not inside the gate's release (a subscriber's acknowledgement is being handled): next turn.
    setImmediate(resumeReader, this);
  }

  /** Applies what waited, unless held again meanwhile (called by resumeReader). */
  applyPending(): void {
    if (this.held) return;
    try {
      this.reader.resume();
    } catch {
      this.socket.destroy();
    }
  }
}

/**
 * Accepts the links other nodes dial to this one, applies their DATA frames in
 * order, drops those already applied (by the sender's stream id and sequence
 * number) and acknowledges, in batches, once what was applied is durable.
 * With a store, the highest sequence number applied per stream is written in
 * the commit that holds the deliveries it made, so a receiver restarted
 * between that commit and its acknowledgement still drops the re-sent frames.
 */
export class LinkServer {
  /** Senders by node id. */
  readonly peers = new Map<string, InboundPeer>();
  private readonly owner: LinkServerOwner;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(owner: LinkServerOwner) {
    this.owner = owner;
    this.server = createServer((s) => this.accept(s));
  }

  /** Listens; resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  /** Stops accepting and closes every link. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * A sender was declared gone: its link is closed, so if it is alive after
   * all it dials again and starts with a route snapshot. What it applied is
   * remembered, so its re-sent frames are still recognised as duplicates.
   */
  forget(id: string): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    p.gone = true;
    p.socket?.destroy();
    p.socket = undefined;
  }

  private accept(s: Socket): void {
    s.setNoDelay(true);
    this.sockets.add(s);
    let peer: InboundPeer | undefined;
    let boot = '';
    const reader = new FrameReader((type, buf, start, end) => {
      if (type === LinkFrame.Hello) {
        const h = JSON.parse(buf.toString('utf8', start, end)) as Hello;
        let p = this.peers.get(h.n);
        const fresh = p === undefined || p.boot !== h.b;
        const j = this.owner.journal;
        if (fresh) j?.streamOpened(h.n, h.b);
        if (p === undefined) {
          p = {
            id: h.n,
            boot: h.b,
            applied: j?.appliedOf(h.b) ?? 0,
            lastHeard: 0,
            socket: s,
            ackScheduled: false,
            gone: false,
          };
          this.peers.set(h.n, p);
        } else if (fresh) {
          p.boot = h.b;
          p.applied = j?.appliedOf(h.b) ?? 0;
        }
        if (p.socket !== s) p.socket?.destroy();
        p.socket = s;
        p.lastHeard = Date.now();
        p.gone = false;
        peer = p;
        boot = h.b;
        this.owner.hello(h, fresh);
        return;
      }
      // Frames of a superseded process or connection are ignored: its successor re-sends.
      if (peer === undefined || peer.boot !== boot || peer.socket !== s) return;
      if (type === LinkFrame.Loose) {
        // Not sequenced, so outside the duplicate check and the acknowledgements: at most once.
        try {
          this.owner.data(peer.id, buf[start] as DataKind, buf.subarray(start + 1, end), input);
        } catch (err) {
          this.owner.warn(`cluster: could not apply a frame from node ${peer.id}`, err);
        }
        return;
      }
      if (type !== LinkFrame.Data) return;
      const seq = buf.readDoubleBE(start);
      if (seq <= peer.applied) {
        this.owner.duplicate();
      } else {
        peer.applied = seq;
        try {
          this.owner.data(peer.id, buf[start + 8] as DataKind, buf.subarray(start + 9, end), input);
        } catch (err) {
          this.owner.warn(`cluster: could not apply a frame from node ${peer.id}`, err);
        }
        this.owner.journal?.noteApplied(boot, peer.id, seq);
      }
      this.scheduleAck(peer);
    });
    const input = new Input(s, reader);
    s.on('data', (d: Buffer) => {
      // Once per chunk, not per frame: a chunk holds hundreds of small frames.
      if (peer !== undefined && peer.socket === s) peer.lastHeard = Date.now();
      try {
        reader.push(d);
      } catch (err) {
        this.owner.warn('cluster: bad link frame', err);
        s.destroy();
      }
    });
    s.on('error', ignore);
    s.on('close', () => {
      this.sockets.delete(s);
      if (peer !== undefined && peer.socket === s) peer.socket = undefined;
    });
  }

  /** One acknowledgement per batch, sent when the batch is durable: it covers every frame before it. */
  private scheduleAck(p: InboundPeer): void {
    if (p.ackScheduled) return;
    p.ackScheduled = true;
    const boot = p.boot;
    setImmediate(() => {
      const seq = p.applied;
      this.owner.whenDurable(() => {
        p.ackScheduled = false;
        // What was applied is durable whichever connection carried it: ack on the current one.
        const s = p.socket;
        if (p.boot === boot && s !== undefined && !s.destroyed) s.write(ackFrame(seq));
        if (p.applied > seq && p.socket !== undefined) this.scheduleAck(p);
      });
    });
  }
}
