import type { Channel } from '../broker/channel.js';
import type { SubscriptionRecord } from '../broker/session.js';
import type { SubackPacket, UnsubackPacket } from '../protocol/packets.js';

/**
 * A SUBACK or UNSUBACK of a stored session, held (in `commit` mode) until the
 * group commit that made the subscription change durable, so that a crash
 * never loses a subscription the client was told it has. The retained
 * messages answering a SUBSCRIBE follow its SUBACK, as when nothing waits.
 */
export class HeldReply {
  readonly channel: Channel;
  readonly packet: SubackPacket | UnsubackPacket;
  /** Subscriptions that get the matching retained messages once the SUBACK is out. */
  readonly retainedFor: SubscriptionRecord[] | undefined;

  constructor(
    channel: Channel,
    packet: SubackPacket | UnsubackPacket,
    retainedFor: SubscriptionRecord[] | undefined,
  ) {
    this.channel = channel;
    this.packet = packet;
    this.retainedFor = retainedFor;
  }

  /** Sends the reply (a no-op on a closed connection), then the retained messages. */
  send(): void {
    const ch = this.channel;
    ch.send(this.packet);
    const recs = this.retainedFor;
    const session = ch.session;
    if (recs === undefined || recs.length === 0 || session === undefined) return;
    // The subscription is in the session whatever became of this connection: its
    // retained messages go to the session (queued, or to a connection that took
    // it over), as they would have had the SUBACK gone out at once; not to a
    // session discarded meanwhile. They are looked up now, not at SUBSCRIBE time,
    // so a retained message set meanwhile is never followed by an older one.
    if (ch.broker.sessions.get(session.clientId) === session) ch.broker.sendRetained(session, recs);
  }
}
