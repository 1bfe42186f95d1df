/** The broker as its cluster node sees it (cluster/ knows only the ClusterHost interface). */

import { join } from 'node:path';
import type { ClusterHost } from '../cluster/host.js';
import { LmdbStore } from '../store/lmdb.js';
import type { Persistence } from '../store/persistence.js';
import { channelOf } from './channel.js';
import type { Message } from './message.js';
import type { Publisher } from './publisher.js';
import type { RetainedIndex } from './retained-index.js';
import type { Router } from './router.js';
import type { SessionRegistry } from './session-registry.js';

/** The parts of a broker that its cluster node reaches, wired once by the broker. */
export interface ClusterHostParts {
  /** The clock and the logger (the broker). */
  readonly broker: Pick<ClusterHost, 'log' | 'now'>;
  /** Where messages get their ids. */
  readonly publisher: Publisher;
  readonly router: Router;
  readonly registry: SessionRegistry;
  readonly retained: RetainedIndex<Message>;
  readonly persistence: Persistence | undefined;
}

/** The publisher's own queue when the input is another node: none (no session to exempt). */
const NO_QUEUE = { clientId: '', online: false, queuedCount: 0, queuedBytes: 0 };

/** Builds the ClusterHost of a broker from its parts. */
export function clusterHost(parts: ClusterHostParts): ClusterHost {
  const { broker, publisher, router, registry, retained, persistence } = parts;
  const store = persistence?.store;
  const replicaDisk =
    store instanceof LmdbStore
      ? { dir: join(store.location, 'cluster-replicas'), sync: persistence!.mode !== 'none' }
      : undefined;
  return {
    replicaDisk,
    get log() {
      return broker.log;
    },
    get now() {
      return broker.now;
    },
    makeMessage: (topic, payload, qos, retain, props, origin, expiresAt) =>
      publisher.makeMessage(topic, payload, qos, retain, props, origin, expiresAt),
    deliver(msg, shares, exclude) {
      router.route(msg, shares, exclude);
    },
    deliverFrom(input, msg, shares, exclude) {
      const gate = registry.limits().gate;
      if (gate === undefined || msg.qos === 0) {
        router.route(msg, shares, exclude);
        return;
      }
      gate.begin(input, NO_QUEUE);
      try {
        router.route(msg, shares, exclude);
      } finally {
        gate.end();
      }
    },
    get queueBound() {
      return registry.limits().maxQueuedMessages;
    },
    linkFull: (q) => registry.limits().gate?.absorb(q) === true,
    linkDrained(q) {
      registry.limits().gate?.progress(q);
    },
    hasLocalRoute: (topicFilter, key) => router.trie.get(topicFilter, key) !== undefined,
    retainedMessage: (topic) => retained.get(topic),
    matchRetained(filter, out) {
      retained.match(filter, out);
    },
    setRetained(msg) {
      if (msg.payload.length === 0) retained.delete(msg.topic);
      else retained.set(msg.topic, msg);
      persistence?.retainedChanged(msg);
    },
    session: (clientId) => registry.sessions.get(clientId),
    destroySession(s) {
      registry.destroy(s);
    },
    closeTakenOver(s) {
      const ch = channelOf(s);
      if (ch === undefined) return false;
      ch.takenOver();
      return true;
    },
    sessionIds: () => registry.sessions.keys(),
    linkJournal: persistence?.links,
    whenDurable(done) {
      if (persistence === undefined) {
        done();
        return;
      }
      // A failed commit is logged by the store; the sender's copy is released either way.
      persistence.waitDurable({ durable: done, commitFailed: done });
    },
    sessionLimits: () => registry.limits(),
    adoptSession(s) {
      registry.sessions.set(s.clientId, s);
      persistence?.sessionAttached(s, undefined, false);
    },
    setReplyGate(gate) {
      if (persistence !== undefined) persistence.replyGate = gate;
    },
    adoptSubscription(rec) {
      rec.session.addSubscription(rec);
      router.add(rec);
      persistence?.subscribed(rec);
    },
  };
}
