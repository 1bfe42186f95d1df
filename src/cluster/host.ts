/** The broker as a cluster node sees it: the one interface cluster/ uses to reach its broker. */
import type { Logger } from 'pino';
import type { Message } from '../broker/message.js';
import type { Session, SessionLimits, SubscriptionRecord } from '../broker/session.js';
import type { QoS } from '../protocol/constants.js';
import type { Properties } from '../protocol/properties.js';
import type { LinkJournal } from '../store/link-journal.js';

/** Something that can stop reading its input while a queue it fed is full (a link from another node). */
export interface LinkInput {
  /** Stop reading (the flow gate calls it on the first full queue). */
  holdInput(): void;
  /** Read again (the flow gate calls it once the last such queue drained). */
  releaseInput(): void;
}

/** A link to another node as the broker's flow gate sees it: a queue of unacknowledged frames. */
export interface LinkQueue {
  readonly clientId: string;
  /** Connected: only then may it hold publishers (a link that is down keeps its outbox instead). */
  readonly online: boolean;
  readonly queuedCount: number;
  readonly queuedBytes: number;
}

/**
 * What a cluster node needs of the broker it belongs to: making and delivering
 * messages, the retained set, and sessions moving between nodes. The broker
 * implements it; the cluster never reaches into the broker's fields.
 */
export interface ClusterHost {
  /** Where cluster warnings go (read on each use: the broker may swap its logger). */
  readonly log: Logger | undefined;
  /** Current time in ms. */
  readonly now: number;
  /** A message with this node's next id; `expiresAt` (absolute ms, 0 = never) keeps the sender's expiry. */
  makeMessage(
    topic: string,
    payload: Buffer,
    qos: QoS,
    retain: boolean,
    props: Properties | undefined,
    origin: string,
    expiresAt: number,
  ): Message;
  /**
   * Routes a message another node forwarded to this node's sessions; `shares`: the
   * shared groups it assigned here; `exclude`: a session that already has it.
   */
  deliver(msg: Message, shares: ReadonlySet<string>, exclude?: Session): void;
  /**
   * As deliver, for a QoS 1/2 message another node forwarded on `input`: a full
   * online queue takes it and `input` stops being read until that queue drains
   * (the broker's flow gate), instead of a drop after the sender acknowledged it.
   */
  deliverFrom(input: LinkInput, msg: Message, shares: ReadonlySet<string>, exclude?: Session): void;
  /** The bound of a session queue (messages; 0 = none): a link holds publishers past it. */
  readonly queueBound: number;
  /**
   * A link's backlog passed the queue bound while a client's PUBLISH is being
   * forwarded: whether that publisher is stopped until `linkDrained(q)` finds it
   * below half (false when no flow gate applies).
   */
  linkFull(q: LinkQueue): boolean;
  /** A link that was full got acknowledgements: its publishers go on once it is below half. */
  linkDrained(q: LinkQueue): void;
  /** Whether this node's router holds `key` (a client id or `$share/<group>`) under `topicFilter`. */
  hasLocalRoute(topicFilter: string, key: string): boolean;
  /** This node's retained message of a topic. */
  retainedMessage(topic: string): Message | undefined;
  /** Appends this node's retained messages matching `filter` to `out`. */
  matchRetained(filter: string, out: Message[]): void;
  /** Applies a retained update from the cluster (an empty payload deletes): index and store, no routing. */
  setRetained(msg: Message): void;
  /** The session of a client id on this node, online or offline. */
  session(clientId: string): Session | undefined;
  /** Ends a session on this node: its routes and stored records go, a pending will is published. */
  destroySession(s: Session): void;
  /** Closes the live connection of a session its client took to another node; false when offline. */
  closeTakenOver(s: Session): boolean;
  /** Client ids of every session on this node. */
  sessionIds(): Iterable<string>;
  /** Where the node's links keep unacknowledged frames and watermarks in the store; none without one. */
  readonly linkJournal: LinkJournal | undefined;
  /** Calls `done` once everything changed so far is durable in the store (at once without one). */
  whenDurable(done: () => void): void;
  /** Limits of a new session. */
  sessionLimits(): SessionLimits;
  /** Registers an offline session handed over by another node, and stores it if the broker persists. */
  adoptSession(s: Session): void;
  /** Adds a subscription of an adopted session: to the session, the router and the store. */
  adoptSubscription(rec: SubscriptionRecord): void;
  /**
   * Where this node keeps other nodes' session copies on disk (with an LMDB
   * store: a directory inside it) and whether writes are fsynced; undefined: memory only.
   */
  readonly replicaDisk: { dir: string; sync: boolean } | undefined;
  /** What replies to clients wait for besides the store's commit (`commit` mode); undefined: nothing. */
  setReplyGate(gate: ((done: () => void) => void) | undefined): void;
}
