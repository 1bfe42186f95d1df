/** The broker as a cluster node sees it: the one interface cluster/ uses to reach its broker. */
import type { Logger } from 'pino';
import type { Message } from '../broker/message.js';
import type { Session, SessionLimits, SubscriptionRecord } from '../broker/session.js';
import type { QoS } from '../protocol/constants.js';
import type { Properties } from '../protocol/properties.js';

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
