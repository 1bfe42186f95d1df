import { DropReason } from '../broker/delivery-target.js';
import type { Message } from '../broker/message.js';
import type { Session } from '../broker/session.js';
import type { QoS } from '../protocol/constants.js';
import { topicMatches } from '../protocol/topic.js';
import { decodeFrame, encodeMessage, frame, messageOf } from './frame.js';
import type { ClusterHost } from './host.js';
import { DataKind } from './link-wire.js';
import type { PeerLink } from './peer-link.js';

/** What session moves need of their cluster node. */
export interface MovesLink {
  readonly host: ClusterHost;
  readonly nodeId: string;
  /** Longest a move may take before both sides give up waiting for the other. */
  readonly timeout: number;
  /** This node's link to another node. */
  linkTo(id: string): PeerLink | undefined;
  /** The identity of a message wherever it travels (`{node}:{id}` where it was first published). */
  keyOf(msg: Message): string;
  /** Resolves once this node's route changes so far are in force on every linked node. */
  routesSettled(): Promise<void> | undefined;
}

/** The receiving side of a move: the session arrived, copies may come both ways until the old node lets go. */
interface Window {
  session: Session;
  /** Node the session came from. */
  from: string;
  /** Keys of messages that reached the session directly here (routed by this node). */
  direct: Set<string>;
  /** Keys of messages the session got from the old node (in the hand-over or forwarded after it). */
  relayed: Set<string>;
  timer: NodeJS.Timeout;
}

/** The sending side: the old session, emptied, forwards what still reaches it to the new node. */
interface Stub {
  session: Session;
  to: string;
  timer: NodeJS.Timeout;
}

function ignore(): void {}

/**
 * Moves a persistent session between nodes without a gap. The old node hands
 * the session over on its link to the new node and keeps its routes, relaying
 * every message that still reaches the session there (same link, so after the
 * hand-over). The new node installs the session, announces its routes, waits
 * until every node forwards for them, and tells the old node to let go; the old
 * node drops its routes and confirms. Until then a message can reach the
 * session both ways, so the new node keeps the keys of what it delivered each
 * way and lets each message through once.
 */
export class Moves {
  private readonly link: MovesLink;
  private readonly windows = new Map<string, Window>();
  private readonly stubs = new Map<string, Stub>();

  constructor(link: MovesLink) {
    this.link = link;
  }

  /** Whether any move is under way (the routing paths check this first, at no cost otherwise). */
  get active(): boolean {
    return this.windows.size > 0;
  }

  // ---------------------------------------------------------------- old node

  /**
   * Turns a session whose state was just handed to node `to` into a relay:
   * emptied, still routed here, every delivery forwarded to `to`.
   */
  relay(s: Session, to: string): void {
    const l = this.link;
    s.clearMessages();
    const sink = {
      receiveMaximum: 65535,
      sendPubrel: ignore,
      sendPublish: (
        msg: Message,
        qos: QoS,
        retain: boolean,
        _pid: number,
        _dup: boolean,
        subIds: number[] | undefined,
      ) => {
        const link = l.linkTo(to);
        if (link === undefined) return DropReason.Offline;
        link.send(DataKind.Deliver, deliverBody(s.clientId, qos, retain, subIds, msg, l));
        return DropReason.None;
      },
    };
    // The relay keeps the session's read checks (the router applies them before it).
    s.deliverTo(sink, s.access as Parameters<Session['deliverTo']>[1]);
    const timer = setTimeout(() => this.letGo(s.clientId), l.timeout * 5);
    timer.unref();
    this.stubs.set(s.clientId, { session: s, to, timer });
  }

  /** The new node has its routes in force: drop the relay and confirm, after every relayed message. */
  letGo(clientId: string): void {
    const st = this.stubs.get(clientId);
    if (st === undefined) return;
    this.stubs.delete(clientId);
    clearTimeout(st.timer);
    const host = this.link.host;
    if (host.session(clientId) === st.session) host.destroySession(st.session);
    this.link.linkTo(st.to)?.send(DataKind.Released, Buffer.from(clientId));
  }

  // ---------------------------------------------------------------- new node

  /**
   * A session arrived on the link from `from` and is installed here: opens its
   * window, and once this node's routes for it are in force everywhere asks the
   * old node to let go. `keys`: the messages that came in the hand-over.
   */
  opened(s: Session, from: string, keys: readonly string[]): void {
    const l = this.link;
    const clientId = s.clientId;
    const timer = setTimeout(() => this.closed(clientId), l.timeout * 5);
    timer.unref();
    this.windows.set(clientId, {
      session: s,
      from,
      direct: new Set(),
      relayed: new Set(keys),
      timer,
    });
    const release = () => l.linkTo(from)?.send(DataKind.Release, Buffer.from(clientId));
    const settling = l.routesSettled();
    if (settling === undefined) setImmediate(release);
    else settling.then(release);
  }

  /** The old node let go: nothing more can come both ways. */
  closed(clientId: string): void {
    const w = this.windows.get(clientId);
    if (w === undefined) return;
    clearTimeout(w.timer);
    this.windows.delete(clientId);
  }

  /** A message relayed by the old node: delivered unless it already reached the session here. */
  onDeliver(body: Buffer): void {
    const n = body.readUInt16BE(0);
    const clientId = body.toString('utf8', 2, 2 + n);
    let pos = 2 + n;
    const qos = body[pos++] as QoS;
    const retain = body[pos++] === 1;
    const ids = body.readUInt16BE(pos);
    pos += 2;
    let subIds: number[] | undefined;
    if (ids > 0) {
      subIds = [];
      for (let i = 0; i < ids; i++, pos += 4) subIds.push(body.readUInt32BE(pos));
    }
    const f = decodeFrame(body.subarray(pos));
    const host = this.link.host;
    const s = host.session(clientId);
    if (s === undefined) return;
    const w = this.windows.get(clientId);
    if (w !== undefined && w.session === s) {
      if (w.direct.has(f.key)) return;
      w.relayed.add(f.key);
    }
    const msg = messageOf(host, f);
    if (msg.isExpired(host.now)) return;
    s.deliver(msg, qos, retain, subIds);
  }

  /**
   * Called for every message this node routes (from another node, or published
   * here) while moves are under way: notes it for the moving sessions it
   * matches, and returns a session that already got it relayed (to be skipped).
   */
  routing(topic: string, key: string): Session | undefined {
    let skip: Session | undefined;
    for (const w of this.windows.values()) {
      if (!matchesAny(w.session, topic)) continue;
      if (w.relayed.has(key)) skip = w.session;
      else w.direct.add(key);
    }
    return skip;
  }
}

function matchesAny(s: Session, topic: string): boolean {
  for (const rec of s.subscriptions.values())
    if (rec.shareGroup === undefined && topicMatches(rec.topicFilter, topic)) return true;
  return false;
}

/** A relayed delivery: client id, QoS, RETAIN, subscription ids, then the message frame. */
function deliverBody(
  clientId: string,
  qos: QoS,
  retain: boolean,
  subIds: number[] | undefined,
  msg: Message,
  l: MovesLink,
): Buffer {
  const f = frame(l.nodeId, msg.origin, msg.expiresAt, undefined, encodeMessage(msg), l.keyOf(msg));
  const id = Buffer.from(clientId);
  const n = subIds?.length ?? 0;
  const head = Buffer.allocUnsafe(2 + id.length + 4 + 4 * n);
  head.writeUInt16BE(id.length, 0);
  id.copy(head, 2);
  let pos = 2 + id.length;
  head[pos++] = qos;
  head[pos++] = retain ? 1 : 0;
  head.writeUInt16BE(n, pos);
  pos += 2;
  for (let i = 0; i < n; i++, pos += 4) head.writeUInt32BE(subIds![i]!, pos);
  return Buffer.concat([head, f]);
}
