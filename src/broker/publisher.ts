/** The publish path: message ids, the retained set, the `publish` event, routing here and to other nodes. */
import type { QoS } from '../protocol/constants.js';
import type { Will } from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import type { Persistence } from '../store/persistence.js';
import { Message } from './message.js';
import type { ClientInfo } from './options.js';
import type { RetainedIndex } from './retained-index.js';
import type { RouteResult, Router } from './router.js';
import type { Session } from './session.js';

/** Where local messages also go when the broker is in a cluster. */
export interface MessageForwarder {
  /** A retained message changed here. */
  retainedChanged(msg: Message): void;
  /** A message was published here. */
  forward(msg: Message): void;
}

/** What the publish path needs of the broker around it. */
export interface PublisherDeps {
  readonly router: Router;
  readonly retained: RetainedIndex<Message>;
  readonly persistence: Persistence | undefined;
  /** Tells the embedding application about an accepted message (the `publish` event). */
  announce(msg: Message, client: ClientInfo | undefined): void;
}

/** Makes messages and publishes them: retained set, store, event, router, cluster. */
export class Publisher {
  /** Other cluster nodes, when there are any (set by the cluster wiring). */
  forwarder: MessageForwarder | undefined;
  private readonly deps: PublisherDeps;
  private nextId = 1;
  /** Ids below this are reserved in the store; crossing it reserves the next block. */
  private idLimit = Number.POSITIVE_INFINITY;

  constructor(deps: PublisherDeps) {
    this.deps = deps;
  }

  /** The id the next message gets. */
  get nextMessageId(): number {
    return this.nextId;
  }

  /** Message ids continue from `next` (restored from the store); ids below `limit` are reserved. */
  setMessageIds(next: number, limit: number): void {
    this.nextId = next;
    this.idLimit = limit;
  }

  /**
   * A new message with the next message id. Its expiry comes from its properties,
   * unless `expiresAt` (absolute, ms; 0 = never) carries one already set elsewhere
   * (a message from another cluster node or handed over with a session).
   */
  makeMessage(
    topic: string,
    payload: Buffer,
    qos: QoS,
    retain: boolean,
    props: Properties | undefined,
    origin: string,
    expiresAt?: number,
  ): Message {
    if (expiresAt === undefined) {
      expiresAt = 0;
      if (props !== undefined && props.messageExpiryInterval !== undefined) {
        expiresAt = Date.now() + props.messageExpiryInterval * 1000;
      }
    }
    const id = this.nextId++;
    if (id >= this.idLimit) this.idLimit = this.deps.persistence!.reserveMessageIds(id);
    return new Message(id, topic, payload, qos, retain, props, expiresAt, origin);
  }

  /** Stores (if retained), announces and routes one message, here and on other cluster nodes. */
  publish(msg: Message, client: ClientInfo | undefined): RouteResult {
    const d = this.deps;
    const fwd = this.forwarder;
    if (msg.retain) {
      if (msg.payload.length === 0) d.retained.delete(msg.topic);
      else d.retained.set(msg.topic, msg);
      d.persistence?.retainedChanged(msg);
      fwd?.retainedChanged(msg);
    }
    d.announce(msg, client);
    const result = d.router.route(msg);
    fwd?.forward(msg);
    return result;
  }

  /** Publishes a will (or a due delayed will); its Will Delay Interval is not forwarded. */
  publishWill(session: Session | undefined, client: ClientInfo | undefined, will: Will): void {
    const origin = session?.clientId ?? client?.clientId ?? '';
    const props = will.properties;
    let fwd: Properties | undefined;
    if (props !== undefined) {
      fwd = { ...props };
      delete fwd.willDelayInterval;
      if (Object.keys(fwd).length === 0) fwd = undefined;
    }
    this.publish(
      this.makeMessage(will.topic, will.payload, will.qos, will.retain, fwd, origin),
      undefined,
    );
  }
}
