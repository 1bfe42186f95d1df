import { PacketType, ReasonCode } from '../../protocol/constants.js';
import type { SubackPacket, UnsubackPacket } from '../../protocol/packets.js';
import type { CommitWaiter, Persistence } from '../../store/persistence.js';
import type { SubscriptionRecord } from '../session.js';
import type { AckType, ChannelContext, HeldReplyQueue } from './context.js';

/** A held SUBACK/UNSUBACK and the subscriptions owed retained messages once it is out. */
interface HeldReply {
  readonly packet: SubackPacket | UnsubackPacket;
  readonly retainedFor: SubscriptionRecord[] | undefined;
}

/**
 * The replies of one connection that wait (in `commit` mode) for the group
 * commit that made their change durable: PUBACK/PUBREC/PUBREL/PUBCOMP, the
 * CONNACK of a CONNECT that changed a stored session, and the SUBACK/UNSUBACK
 * of a stored session. They go out in arrival order; the store only says
 * which commit window is durable. Kept in parallel arrays, not an object or
 * closure per reply, since every QoS 1/2 message passes through here.
 */
export class HeldReplies implements CommitWaiter, HeldReplyQueue {
  private readonly ch: ChannelContext;
  private readonly p: Persistence;
  private readonly types: number[] = [];
  private readonly ids: number[] = [];
  private readonly codes: number[] = [];
  private readonly windows: number[] = [];
  /** The held SUBACK/UNSUBACK packets, in order (one per SUBACK/UNSUBACK entry above). */
  private readonly replies: HeldReply[] = [];
  private head = 0;
  /** The commit window this connection last asked the store about (one request per window). */
  private waitingOn = 0;

  constructor(ch: ChannelContext, p: Persistence) {
    this.ch = ch;
    this.p = p;
  }

  /** Holds an acknowledgement until the open window is durable. */
  ack(type: AckType, packetId: number, reasonCode: number): void {
    this.push(type, packetId, reasonCode);
  }

  /** Holds the CONNACK (written, corked in the socket) and everything after it. */
  connack(): void {
    this.push(PacketType.CONNACK, 0, 0);
  }

  /** Holds a SUBACK/UNSUBACK; `retainedFor` get their retained messages right after it. */
  reply(
    packet: SubackPacket | UnsubackPacket,
    retainedFor: SubscriptionRecord[] | undefined,
  ): void {
    this.replies.push({ packet, retainedFor });
    this.push(packet.type, packet.packetId, 0);
  }

  private push(type: number, id: number, code: number): void {
    const w = this.p.openWindow;
    this.types.push(type);
    this.ids.push(id);
    this.codes.push(code);
    this.windows.push(w);
    if (this.waitingOn !== w) this.waitingOn = this.p.waitReplies(this);
  }

  /** The store's commit of window `w` is durable: everything held up to it goes out, in order. */
  durable(w: number): void {
    const ch = this.ch;
    let i = this.head;
    for (; i < this.types.length && this.windows[i]! <= w; i++) {
      const type = this.types[i]!;
      if (type === PacketType.CONNACK) ch.connackDurable();
      else if (type === PacketType.SUBACK || type === PacketType.UNSUBACK) {
        const r = this.replies.shift()!;
        ch.sendHeldReply(r.packet, r.retainedFor);
      } else ch.writeAck(type as AckType, this.ids[i]!, this.codes[i]!);
    }
    this.consume(i);
  }

  /** The commit of window `w` failed: its replies never go out and the client must reconnect. */
  commitFailed(w: number): void {
    let i = this.head;
    for (; i < this.types.length && this.windows[i]! <= w; i++) {
      const type = this.types[i]!;
      if (type === PacketType.SUBACK || type === PacketType.UNSUBACK) this.replies.shift();
    }
    if (i === this.head) return;
    this.consume(i);
    // The client resends what was not acknowledged (and resubscribes) when it reconnects.
    this.ch.disconnectWith(ReasonCode.UnspecifiedError, 'store failure');
  }

  private consume(upTo: number): void {
    if (upTo >= this.types.length) {
      this.types.length = 0;
      this.ids.length = 0;
      this.codes.length = 0;
      this.windows.length = 0;
      this.head = 0;
      return;
    }
    this.head = upTo;
    // Compact once the consumed front outweighs what is left.
    if (this.head > 64 && this.head * 2 > this.types.length) {
      const n = this.head;
      this.types.splice(0, n);
      this.ids.splice(0, n);
      this.codes.splice(0, n);
      this.windows.splice(0, n);
      this.head = 0;
    }
  }
}
