import { connect, type Socket } from 'node:net';
import type { LinkJournal, RestoredStream } from '../store/link-journal.js';
import { FrameWriter } from './frame-writer.js';
import {
  DataKind,
  FrameReader,
  type Hello,
  helloFrame,
  LinkFrame,
  PING_FRAME,
} from './link-wire.js';

/** One frame this node sent a peer and keeps until the peer acknowledges it. */
interface Outgoing {
  seq: number;
  kind: DataKind;
  body: Buffer;
  /** The rest of the frame after `body`, when sent in two parts (a shared header, then the packet). */
  tail: Buffer | undefined;
  /** Kept in the store until acknowledged (a forwarded QoS 1/2 message). */
  durable: boolean;
}

/**
 * Sequence numbers reserved in the store at a time. A restarted sender
 * continues after the reservation, so it never reuses a number the receiver
 * may have applied; the next block is reserved when half of this one is used,
 * long before it runs out.
 */
const SEQ_BLOCK = 1 << 20;

/**
 * Unsent bytes a link's socket may hold before frames that are not kept
 * (QoS 0) are dropped instead: a receiver that cannot keep up must not make
 * this node buffer without bound what it never promised to deliver.
 */
const LOOSE_BACKLOG = 8 * 1024 * 1024;

/** Counters a link adds to. */
export interface LinkCounters {
  /** DATA frames acknowledged by their receiver. */
  acked: number;
  /** DATA frames sent again after a reconnect. */
  resent: number;
  /** Frames given up (outbox full, or the peer is gone for good). */
  dropped: number;
}

/** What a link needs of its node. */
export interface PeerLinkOwner {
  /** The HELLO this node introduces itself with. */
  readonly hello: Hello;
  /** Outbox bound: frames kept for a peer before the oldest are dropped (and counted). */
  readonly maxOutbox: number;
  readonly counters: LinkCounters;
  /** Where durable frames are kept until acknowledged; none without a store. */
  readonly journal: LinkJournal | undefined;
  /** The link (re)connected and re-sent its outbox: time to send the route snapshot. */
  linkUp(link: PeerLink): void;
  /** A link that holds publishers (`pressured`) got an acknowledgement. */
  drained(link: PeerLink): void;
  /** Something worth a warning happened. */
  warn(text: string, err?: unknown): void;
}

function ignore(): void {}

/**
 * This node's connection to one other node, for everything this node sends it
 * (forwarded messages, route changes). Every DATA frame gets the next sequence
 * number and stays in the outbox until the peer acknowledges it (after routing
 * it and, with persistence, after its commit); after a broken connection the
 * outbox is sent again in order and the peer drops the sequence numbers it
 * already applied. So a message crosses at least once, is applied at most once
 * per peer process, and Redis is never its only holder. QoS 0 messages go as
 * LOOSE frames instead (beginLoose): not numbered, not kept.
 */
export class PeerLink {
  /** The peer's node id. */
  readonly id: string;
  host: string;
  port: number;
  private readonly owner: PeerLinkOwner;
  private socket: Socket | undefined;
  /** Whether HELLO went out on the current socket (frames may be written). */
  private up = false;
  private closed = false;
  private nextSeq = 1;
  /** Sequence numbers the peer acknowledged, up to and including. */
  private ackedSeq = 0;
  private readonly outbox: Outgoing[] = [];
  /** Index of the first outbox entry not yet acknowledged (entries before it are garbage). */
  private head = 0;
  private readonly waiters: { seq: number; resolve: () => void }[] = [];
  /** Sequence numbers below this are reserved in the store (with a journal). */
  private reserved = 0;
  /** Batches the frames of a tick into one socket write. */
  private readonly writer = new FrameWriter();
  private retry: NodeJS.Timeout | undefined;
  private backoff = 50;
  /** When the link last failed to connect (0: connected, or never failed). */
  downSince = 0;
  /** Whether publishers wait for this link's backlog (see Cluster.forward). */
  pressured = false;
  /** Its name for the flow gate. */
  readonly clientId: string;

  /** `restored`: this link's stream as a previous process left it (its hello carries that stream id). */
  constructor(
    owner: PeerLinkOwner,
    id: string,
    host: string,
    port: number,
    restored?: RestoredStream,
  ) {
    this.owner = owner;
    this.id = id;
    this.clientId = `cluster link to ${id}`;
    this.host = host;
    this.port = port;
    if (restored !== undefined) {
      this.nextSeq = restored.next;
      for (const f of restored.frames)
        this.outbox.push({
          seq: f.seq,
          kind: f.kind as DataKind,
          body: f.body,
          tail: undefined,
          durable: true,
        });
    }
    if (owner.journal !== undefined) this.reserve();
    this.dial();
  }

  private reserve(): void {
    this.reserved = this.nextSeq + SEQ_BLOCK;
    this.owner.journal!.reserve(this.id, this.owner.hello.b, this.reserved);
  }

  /** The id of this node's stream to the peer (what the peer's watermark is kept under). */
  get stream(): string {
    return this.owner.hello.b;
  }

  /** Frames sent and not acknowledged yet, in order. */
  *pending(): Iterable<{ seq: number; kind: DataKind; body: Buffer; tail: Buffer | undefined }> {
    for (let i = this.head; i < this.outbox.length; i++) yield this.outbox[i]!;
  }

  /** Whether the link is connected and introduced. */
  get connected(): boolean {
    return this.up;
  }

  /** Frames waiting for the peer's acknowledgement. */
  get unacked(): number {
    return this.outbox.length - this.head;
  }

  /** For the flow gate: only a connected link holds publishers. */
  get online(): boolean {
    return this.up;
  }

  /** For the flow gate: the backlog is counted in frames. */
  get queuedCount(): number {
    return this.outbox.length - this.head;
  }

  /** For the flow gate: not counted in bytes. */
  get queuedBytes(): number {
    return 0;
  }

  /**
   * Sends a DATA frame (now, or when the link is up); returns its sequence
   * number. A `durable` frame is also kept in the store (in the open commit
   * window) until the peer acknowledges it, so it survives this process. The
   * frame is `body` followed by `tail`, if given.
   */
  send(kind: DataKind, body: Buffer, durable = false, tail?: Buffer): number {
    const seq = this.nextSeq++;
    if (this.closed) return seq;
    const j = this.owner.journal;
    const keep = durable && j !== undefined;
    if (j !== undefined) {
      if (this.reserved - seq < SEQ_BLOCK / 2) this.reserve();
      if (keep) j.keep(this.id, seq, kind, tail === undefined ? body : Buffer.concat([body, tail]));
    }
    const o: Outgoing = { seq, kind, body, tail, durable: keep };
    this.outbox.push(o);
    if (this.outbox.length - this.head > this.owner.maxOutbox) this.dropOldest();
    if (this.up) this.write(o);
    return seq;
  }

  /**
   * Starts a frame that is not kept (a QoS 0 message: at most once): no
   * sequence number, no outbox entry, no acknowledgement. Returns the buffer
   * its body goes into, from `looseAt`, to be closed with endLoose(); or
   * undefined, the frame dropped and counted, when the link is down or its
   * socket holds more than LOOSE_BACKLOG unsent bytes.
   */
  beginLoose(room: number): Buffer | undefined {
    if (!this.up || this.socket!.writableLength > LOOSE_BACKLOG) {
      this.owner.counters.dropped++;
      return undefined;
    }
    return this.writer.begin(room);
  }

  /** Where the body of the frame beginLoose() started goes. */
  get looseAt(): number {
    return this.writer.at;
  }

  /** Queues the frame beginLoose() started, its body ending at `end`. */
  endLoose(kind: DataKind, end: number): void {
    this.writer.finish(kind, end);
  }

  /** Resolves once the peer acknowledged `seq`, or false after `ms` (or when the link is given up). */
  waitAck(seq: number, ms: number): Promise<boolean> {
    if (seq <= this.ackedSeq) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, ms);
      const w = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve(seq <= this.ackedSeq);
        },
      };
      this.waiters.push(w);
    });
  }

  /** Tells the peer this node is alive (the peer drops nodes it has not heard from in a TTL). */
  ping(): void {
    if (this.up) this.socket!.write(PING_FRAME);
  }

  /**
   * Gives the link up; returns how many unacknowledged frames were dropped
   * with it. `forget`: the peer is gone for good, so the stream and its kept
   * frames leave the store too; otherwise (this node stops) they stay there
   * and the next process re-sends them.
   */
  close(forget = false): number {
    if (this.closed) return 0;
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    const lost = this.outbox.length - this.head;
    const j = this.owner.journal;
    if (forget && j !== undefined) {
      for (let i = this.head; i < this.outbox.length; i++) {
        const o = this.outbox[i]!;
        if (o.durable) j.release(this.id, o.seq);
      }
      j.endStream(this.id);
    }
    this.outbox.length = 0;
    this.head = 0;
    this.socket?.destroy();
    this.socket = undefined;
    this.writer.attach(undefined);
    this.up = false;
    for (const w of this.waiters.splice(0)) w.resolve();
    return lost;
  }

  /** Resolves once everything sent so far is acknowledged, or after `ms`. */
  drain(ms: number): Promise<boolean> {
    return this.waitAck(this.nextSeq - 1, ms);
  }

  /** Dials another address for the same peer (it restarted elsewhere); the outbox and numbering stay. */
  reaim(host: string, port: number): void {
    if (this.closed) return;
    this.host = host;
    this.port = port;
    const s = this.socket;
    if (s !== undefined) s.destroy();
    else {
      if (this.retry !== undefined) clearTimeout(this.retry);
      this.dial();
    }
  }

  private dropOldest(): void {
    const o = this.outbox[this.head]!;
    this.head++;
    if (o.durable) this.owner.journal!.release(this.id, o.seq);
    this.owner.counters.dropped++;
    if (o.kind === DataKind.Message && this.owner.counters.dropped % 1000 === 1)
      this.owner.warn(`cluster: outbox to node ${this.id} is full; dropping its oldest messages`);
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.outbox.length) {
      this.outbox.splice(0, this.head);
      this.head = 0;
    }
  }

  private write(o: Outgoing): void {
    this.writer.write(o.seq, o.kind, o.body, o.tail);
  }

  private dial(): void {
    if (this.closed) return;
    const s = connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    this.socket = s;
    const reader = new FrameReader((type, buf, start) => {
      if (type === LinkFrame.Ack) this.onAck(buf.readDoubleBE(start));
    });
    s.on('connect', () => {
      this.backoff = 50;
      this.downSince = 0;
      s.write(helloFrame(this.owner.hello));
      this.writer.attach(s);
      this.up = true;
      const pending = this.outbox.length - this.head;
      if (pending > 0) this.owner.counters.resent += pending;
      for (let i = this.head; i < this.outbox.length; i++) this.write(this.outbox[i]!);
      this.owner.linkUp(this);
    });
    s.on('data', (d: Buffer) => {
      try {
        reader.push(d);
      } catch (err) {
        this.owner.warn(`cluster: bad frame from node ${this.id}`, err);
        s.destroy();
      }
    });
    s.on('error', ignore);
    s.on('close', () => {
      if (this.socket !== s) return;
      this.up = false;
      this.socket = undefined;
      this.writer.attach(undefined);
      if (this.downSince === 0) this.downSince = Date.now();
      if (this.closed) return;
      this.retry = setTimeout(() => this.dial(), this.backoff);
      this.retry.unref();
      this.backoff = Math.min(this.backoff * 2, 1000);
    });
  }

  private onAck(seq: number): void {
    if (seq <= this.ackedSeq) return;
    this.ackedSeq = seq;
    const out = this.outbox;
    let h = this.head;
    const j = this.owner.journal;
    while (h < out.length && out[h]!.seq <= seq) {
      const o = out[h]!;
      if (o.durable) j!.release(this.id, o.seq);
      h++;
      this.owner.counters.acked++;
    }
    this.head = h;
    if (this.pressured) this.owner.drained(this);
    if (h === out.length) {
      out.length = 0;
      this.head = 0;
    } else this.compact();
    if (this.waiters.length > 0) {
      const done = this.waiters.filter((w) => w.seq <= seq);
      if (done.length > 0) {
        for (const w of done) this.waiters.splice(this.waiters.indexOf(w), 1);
        for (const w of done) w.resolve();
      }
    }
  }
}
