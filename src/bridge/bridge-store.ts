/**
 * Durable storage of a bridge's outgoing QoS 1/2 messages, in the broker's own
 * store format: the bridge is one more session there (a session record, and
 * delivery entries that reference messages stored once for every session that
 * owes them). Only bridges with a persistent local session (`local_cleansession
 * false`, which follows `cleansession`) have one, and only when the broker
 * persists; other bridges keep their queue in memory and pay nothing for this.
 */
import type { Broker } from '../broker/broker.js';
import type { Message } from '../broker/message.js';
import { type Delivery, SESSION_NEVER_EXPIRES } from '../broker/session.js';
import { messageRecord, type Persistence } from '../store/persistence.js';
import type { DeliveryRecord } from '../store/store.js';

/**
 * Prefix of a bridge's key in the store's session table. It contains U+0000,
 * which no MQTT client id may [MQTT-1.5.3-2], so a client can never take the
 * bridge's stored session over or write under its key.
 */
const BRIDGE_SESSION_PREFIX = '\u0000bridge:';

/** The store key of the bridge whose local client id is `localClientId`. */
export function bridgeSessionKey(localClientId: string): string {
  return BRIDGE_SESSION_PREFIX + localClientId;
}

/** What the store needs of one outgoing message (the bridge's OutgoingMessage is one). */
export interface StoredOutgoing {
  /** The local message it was made from (stored once, by id, with a reference count). */
  readonly source: Message;
  /** QoS owed to the remote (before any downgrade the remote asks for). */
  readonly qos: number;
  readonly retain: boolean;
  /** Delivery key within the bridge's session; 0 while not stored. */
  seq: number;
}

/** A stored delivery as brought back at startup, oldest first. */
export interface RestoredOutgoing {
  source: Message;
  qos: Delivery['qos'];
  retain: boolean;
  seq: number;
}

/**
 * The storage side of one bridge: writes go into the broker's current commit
 * window, so a message routed to the bridge is on disk before the publisher's
 * PUBACK (in `commit` mode), and a delivery acknowledged by the remote within
 * the same window never reaches the disk at all.
 */
export class BridgeStore {
  /** The bridge's key in the session and delivery tables. */
  readonly key: string;
  private readonly p: Persistence;
  private nextSeq = 0;

  constructor(p: Persistence, localClientId: string) {
    this.p = p;
    this.key = bridgeSessionKey(localClientId);
  }

  /**
   * Takes over what the last run left for this bridge: the deliveries restored
   * under its key (oldest first), removing the placeholder session the restore
   * created for them, and (re)writes the bridge's session record.
   */
  adopt(broker: Broker): RestoredOutgoing[] {
    const out: RestoredOutgoing[] = [];
    const s = broker.takeSession(this.key);
    if (s !== undefined) {
      const found: Delivery[] = [...s.inflight.values(), ...s.queued()];
      found.sort((a, b) => a.seq - b.seq);
      // The restore counted each message's references: they pass to the bridge as they are.
      for (const d of found) {
        out.push({ source: d.msg, qos: d.qos, retain: d.retain, seq: d.seq });
        if (d.seq > this.nextSeq) this.nextSeq = d.seq;
      }
    }
    this.p.batch.putSession({
      clientId: this.key,
      protocolVersion: 5,
      expiryInterval: SESSION_NEVER_EXPIRES,
      // Never "online": a restore must not treat the bridge as a client that vanished.
      disconnectedAt: Date.now(),
      will: undefined,
      pendingWill: undefined,
      pendingWillAt: 0,
      username: undefined,
    });
    this.p.touch();
    return out;
  }

  /** Writes a new delivery (and, on its first reference, the message). */
  stored(m: StoredOutgoing): void {
    const seq = ++this.nextSeq;
    m.seq = seq;
    const b = this.p.batch;
    const msg = m.source;
    if (msg.storeRefs++ === 0) b.putMessage(messageRecord(msg));
    const r: DeliveryRecord = {
      messageId: msg.id,
      qos: m.qos as Delivery['qos'],
      retain: m.retain,
      subIds: undefined,
      packetId: 0,
      released: false,
    };
    b.putDelivery(this.key, seq, r, true);
    this.p.touch();
  }

  /** Deletes a delivery (and the message with its last reference): acknowledged, refused or dropped. */
  removed(m: StoredOutgoing): void {
    if (m.seq === 0) return;
    const b = this.p.batch;
    b.deleteDelivery(this.key, m.seq);
    m.seq = 0;
    if (--m.source.storeRefs === 0) b.deleteMessage(m.source.id);
    this.p.touch();
  }
}

/**
 * A bridge with a clean local session (or one no longer configured) starts
 * afresh: what a previous run stored for `localClientId` is deleted.
 */
export function discardBridgeSession(broker: Broker, localClientId: string): void {
  const s = broker.sessions.get(bridgeSessionKey(localClientId));
  if (s !== undefined) broker.destroySession(s);
}

/**
 * Deletes what earlier runs stored for bridges that are not configured any
 * more (their messages have nowhere to go); call once at startup with every
 * configured bridge, after their `start()`. Returns the local client ids
 * whose stored messages were dropped.
 */
export function discardUnconfiguredBridges(
  broker: Broker,
  configured: readonly { localClientId: string }[],
): string[] {
  const keep = new Set(configured.map((c) => bridgeSessionKey(c.localClientId)));
  const gone: string[] = [];
  for (const s of [...broker.sessions.values()]) {
    const key = s.clientId;
    if (!key.startsWith(BRIDGE_SESSION_PREFIX) || keep.has(key)) continue;
    gone.push(key.slice(BRIDGE_SESSION_PREFIX.length));
    broker.destroySession(s);
  }
  return gone;
}
