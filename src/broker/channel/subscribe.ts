import { PacketType } from '../../protocol/constants.js';
import type {
  SubackPacket,
  SubscribePacket,
  UnsubackPacket,
  UnsubscribePacket,
} from '../../protocol/packets.js';
import type { SubscriptionRecord } from '../session.js';
import type { SubscribeOutcome, Subscriber } from '../subscriptions.js';
import type { ChannelContext } from './context.js';
import { HeldReplies } from './held-replies.js';

// SUBSCRIBE and UNSUBSCRIBE of one channel and their replies.

/** The connection as SUBSCRIBE/UNSUBSCRIBE handling sees it (read anew after a hook: re-authentication). */
function subscriberOf(ch: ChannelContext): Subscriber {
  return {
    session: ch.session!,
    client: ch.client!,
    access: ch.access,
    version: ch.version,
    mountPoint: ch.info.mountPoint,
    bridge: ch.bridge,
  };
}

/** Handles SUBSCRIBE; input waits while an asynchronous authorization hook runs. */
export function onSubscribe(ch: ChannelContext, p: SubscribePacket): void {
  const b = ch.broker;
  const sub = subscriberOf(ch);
  const asking = b.subscribeVerdicts(sub, p);
  if (asking === undefined) {
    answerSubscribe(ch, p, b.applySubscribe(sub, p, undefined));
    return;
  }
  ch.backlog = [];
  asking.then(
    (verdicts) => {
      // The hook outlived this connection's hold on the session: nothing to record or answer.
      if (ch.session?.target === ch) {
        try {
          // Waiting for the cluster: the backlog is released when the SUBACK goes.
          if (answerSubscribe(ch, p, b.applySubscribe(subscriberOf(ch), p, verdicts))) return;
        } catch (err) {
          ch.onError(err);
          return;
        }
      }
      ch.releaseBacklog();
    },
    (err) => ch.onError(err),
  );
}

/**
 * Answers a SUBSCRIBE with its SUBACK, then sends the retained messages the
 * new subscriptions asked for; a stored session's SUBACK (and those retained
 * messages after it) may wait for the commit. In a cluster the SUBACK first
 * waits until every node forwards for the new routes (input from the client
 * waits with it, so nothing overtakes the SUBACK); returns true then.
 */
function answerSubscribe(
  ch: ChannelContext,
  p: SubscribePacket,
  outcome: SubscribeOutcome,
): boolean {
  const settling = ch.broker.routesSettled();
  if (settling === undefined) {
    sendSuback(ch, p, outcome);
    return false;
  }
  ch.backlog ??= [];
  settling.then(() => {
    if (ch.session !== undefined) {
      try {
        sendSuback(ch, p, outcome);
      } catch (err) {
        ch.onError(err);
        return;
      }
    }
    ch.releaseBacklog();
  });
  return true;
}

function sendSuback(ch: ChannelContext, p: SubscribePacket, outcome: SubscribeOutcome): void {
  const { codes, retainedFor } = outcome;
  const suback: SubackPacket = {
    type: PacketType.SUBACK,
    packetId: p.packetId,
    reasonCodes: codes,
  };
  const held = holdReply(ch, suback, retainedFor);
  if (!held) ch.send(suback);
  const b = ch.broker;
  b.subscribeAnswered(ch.client!, p.subscriptions, codes);
  if (!held && retainedFor.length > 0) b.sendRetained(ch.session!, retainedFor);
}

/** Handles UNSUBSCRIBE and answers UNSUBACK (held for the commit of a stored session). */
export function onUnsubscribe(ch: ChannelContext, p: UnsubscribePacket): void {
  const codes = ch.broker.unsubscribe(subscriberOf(ch), p.topics);
  const reply: UnsubackPacket = {
    type: PacketType.UNSUBACK,
    packetId: p.packetId,
    reasonCodes: ch.version === 5 ? codes : [],
  };
  if (!holdReply(ch, reply, undefined)) ch.send(reply);
}

/**
 * In `commit` mode, holds the SUBACK / UNSUBACK of a session whose
 * subscriptions are stored (it outlives its connection) until the commit
 * that covers the change, in order with the acknowledgements held before it,
 * so that a crash never loses a subscription the client was told it has.
 * Returns false when the reply can go at once.
 */
export function holdReply(
  ch: ChannelContext,
  packet: SubackPacket | UnsubackPacket,
  retainedFor: SubscriptionRecord[] | undefined,
): boolean {
  const p = ch.broker.persistence;
  const s = ch.session;
  if (p === undefined || !p.defersAcks || s === undefined || !p.isStored(s)) return false;
  (ch.held ??= new HeldReplies(ch, p)).reply(packet, retainedFor);
  return true;
}

/**
 * Sends a SUBACK / UNSUBACK whose change is durable (a no-op on a closed
 * connection), then the retained messages answering the SUBSCRIBE, as when
 * nothing waits.
 */
export function sendHeldReply(
  ch: ChannelContext,
  packet: SubackPacket | UnsubackPacket,
  retainedFor: SubscriptionRecord[] | undefined,
): void {
  ch.send(packet);
  const session = ch.session;
  if (retainedFor === undefined || retainedFor.length === 0 || session === undefined) return;
  // The subscription is in the session whatever became of this connection: its
  // retained messages go to the session (queued, or to a connection that took
  // it over), as they would have had the SUBACK gone out at once; not to a
  // session discarded meanwhile. They are looked up now, not at SUBSCRIBE time,
  // so a retained message set meanwhile is never followed by an older one.
  const b = ch.broker;
  if (b.sessions.get(session.clientId) === session) b.sendRetained(session, retainedFor);
}
