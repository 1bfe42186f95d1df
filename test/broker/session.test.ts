import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AccessControl } from '../../src/broker/access-control.js';
import { type DeliveryTarget, DropReason } from '../../src/broker/delivery-target.js';
import { Message } from '../../src/broker/message.js';
import { type ClientInfo, resolveBrokerOptions } from '../../src/broker/options.js';
import {
  type Delivery,
  Session,
  type SessionLimits,
  type SessionPersistence,
} from '../../src/broker/session.js';
import type { QoS } from '../../src/protocol/constants.js';

// The Session is tested on its own, with a recording DeliveryTarget in place of a
// connection: the interface is the session's own, so nothing runnable is faked.

/** One packet the session handed to its target. */
type Sent =
  | { kind: 'publish'; topic: string; qos: QoS; packetId: number; dup: boolean; retain: boolean }
  | { kind: 'pubrel'; packetId: number };

class RecordingTarget implements DeliveryTarget {
  readonly sent: Sent[] = [];
  receiveMaximum: number;
  /** What sendPublish answers (a client's Maximum Packet Size refusing, say). */
  answer: DropReason = DropReason.None;

  constructor(receiveMaximum = 65535) {
    this.receiveMaximum = receiveMaximum;
  }

  sendPublish(msg: Message, qos: QoS, retain: boolean, packetId: number, dup: boolean): DropReason {
    if (this.answer === DropReason.None)
      this.sent.push({ kind: 'publish', topic: msg.topic, qos, packetId, dup, retain });
    return this.answer;
  }

  sendPubrel(packetId: number): void {
    this.sent.push({ kind: 'pubrel', packetId });
  }

  /** The sent packets, briefly: "t/1 q1 #1", "t/1 q1 #1 dup", "PUBREL #1". */
  log(): string[] {
    return this.sent.map((s) =>
      s.kind === 'pubrel'
        ? `PUBREL #${s.packetId}`
        : `${s.topic} q${s.qos}${s.packetId !== 0 ? ` #${s.packetId}` : ''}${s.dup ? ' dup' : ''}`,
    );
  }
}

const LIMITS: SessionLimits = {
  maxInflight: 20,
  maxQueuedMessages: 100,
  maxQueuedBytes: 0,
  dropOldest: false,
  queueQos0: false,
};

const access = new AccessControl(resolveBrokerOptions({}));

function clientInfo(clientId: string, username?: string): ClientInfo {
  return {
    clientId,
    username,
    protocolVersion: 5,
    remoteAddress: '127.0.0.1',
    remotePort: 50000,
    listener: 'tcp:1883',
    certificateSubject: undefined,
  };
}

let nextId = 1;
function msg(topic: string, qos: QoS = 1, payload = 'x', expiresAt = 0): Message {
  return new Message(nextId++, topic, Buffer.from(payload), qos, false, undefined, expiresAt, 'p');
}

function online(limits: Partial<SessionLimits> = {}, receiveMaximum?: number) {
  const s = new Session('c', 5, 60, { ...LIMITS, ...limits });
  const t = new RecordingTarget(receiveMaximum);
  s.attach(t, clientInfo('c'), access);
  return { s, t };
}

describe('Session inflight window', () => {
  test('QoS 1 beyond the client Receive Maximum waits, and goes out as acks free the window', () => {
    const { s, t } = online({}, 2);
    for (let i = 1; i <= 4; i++) assert.equal(s.deliver(msg(`t/${i}`), 1, false, undefined), 0);
    assert.deepEqual(t.log(), ['t/1 q1 #1', 't/2 q1 #2']);
    assert.equal(s.inflightCount, 2);
    assert.equal(s.queuedCount, 2);
    assert.equal(s.complete(1, Date.now()), true);
    assert.deepEqual(t.log().slice(2), ['t/3 q1 #3']);
    s.complete(2, Date.now());
    s.complete(3, Date.now());
    assert.deepEqual(t.log().slice(3), ['t/4 q1 #4']);
    assert.equal(s.queuedCount, 0);
  });

  test('the broker max_inflight_messages caps the window below a larger Receive Maximum', () => {
    const { s, t } = online({ maxInflight: 1 }, 100);
    s.deliver(msg('a'), 2, false, undefined);
    s.deliver(msg('b'), 1, false, undefined);
    assert.deepEqual(t.log(), ['a q2 #1']);
    assert.equal(s.queuedCount, 1);
  });

  test('QoS 0 goes out at once even with the window full, and is never queued behind it', () => {
    const { s, t } = online({}, 1);
    s.deliver(msg('a'), 1, false, undefined);
    s.deliver(msg('b'), 1, false, undefined);
    assert.equal(s.deliver(msg('c', 0), 0, false, undefined), DropReason.None);
    assert.deepEqual(t.log(), ['a q1 #1', 'c q0']);
  });

  test('PUBACK for an id not in flight is reported, and changes nothing', () => {
    const { s } = online();
    s.deliver(msg('a'), 1, false, undefined);
    assert.equal(s.complete(7, Date.now()), false);
    assert.equal(s.inflightCount, 1);
  });

  test('a message the target refuses (too large for the client) is not kept in flight', () => {
    const { s, t } = online();
    t.answer = DropReason.TooLarge;
    assert.equal(s.deliver(msg('big'), 1, false, undefined), DropReason.TooLarge);
    assert.equal(s.inflightCount, 0);
    assert.equal(s.queuedCount, 0);
  });
});

describe('Session offline queue', () => {
  test('offline, QoS 1/2 are queued and QoS 0 is dropped unless queue_qos0_messages', () => {
    const s = new Session('c', 5, 60, LIMITS);
    assert.equal(s.online, false);
    assert.equal(s.deliver(msg('a', 0), 0, false, undefined), DropReason.Offline);
    assert.equal(s.deliver(msg('b'), 1, false, undefined), DropReason.None);
    assert.equal(s.deliver(msg('c', 2), 2, false, undefined), DropReason.None);
    assert.equal(s.queuedCount, 2);
    const q0 = new Session('d', 5, 60, { ...LIMITS, queueQos0: true });
    assert.equal(q0.deliver(msg('a', 0), 0, false, undefined), DropReason.None);
    assert.equal(q0.queuedCount, 1);
  });

  test('queued messages go out in order when the client comes back', () => {
    const s = new Session('c', 5, 60, LIMITS);
    s.deliver(msg('a'), 1, false, undefined);
    s.deliver(msg('b', 2), 2, false, undefined);
    s.deliver(msg('c'), 1, true, undefined);
    const t = new RecordingTarget();
    s.attach(t, clientInfo('c'), access);
    assert.deepEqual(t.log(), []);
    s.resume(Date.now());
    assert.deepEqual(t.log(), ['a q1 #1', 'b q2 #2', 'c q1 #3']);
    assert.equal(t.sent[2]!.kind === 'publish' && t.sent[2]!.retain, true);
  });

  test('a full queue refuses the new message and counts it (drop newest)', () => {
    const s = new Session('c', 5, 60, { ...LIMITS, maxQueuedMessages: 2 });
    s.deliver(msg('a'), 1, false, undefined);
    s.deliver(msg('b'), 1, false, undefined);
    assert.equal(s.deliver(msg('c'), 1, false, undefined), DropReason.QueueFull);
    assert.equal(s.dropped, 1);
    assert.deepEqual(
      [...s.queued()].map((d) => d.msg.topic),
      ['a', 'b'],
    );
  });

  test('with drop oldest, the oldest make room and every one dropped is counted', () => {
    const s = new Session('c', 5, 60, { ...LIMITS, maxQueuedMessages: 2, dropOldest: true });
    for (const t of ['a', 'b', 'c', 'd']) s.deliver(msg(t), 1, false, undefined);
    assert.equal(s.dropped, 2);
    assert.deepEqual(
      [...s.queued()].map((d) => d.msg.topic),
      ['c', 'd'],
    );
  });

  test('the byte bound counts payload bytes, and room comes back as messages leave', () => {
    const s = new Session('c', 5, 60, { ...LIMITS, maxQueuedBytes: 10 });
    assert.equal(s.deliver(msg('a', 1, '123456'), 1, false, undefined), DropReason.None);
    assert.equal(s.deliver(msg('b', 1, '12345'), 1, false, undefined), DropReason.QueueFull);
    assert.equal(s.queuedBytes, 6);
    const t = new RecordingTarget();
    s.attach(t, clientInfo('c'), access);
    s.resume(Date.now());
    assert.equal(s.queuedBytes, 0);
    s.detach(Date.now());
    assert.equal(s.deliver(msg('b', 1, '12345'), 1, false, undefined), DropReason.None);
  });

  test('a message that expired while queued is dropped, not sent', () => {
    const s = new Session('c', 5, 60, LIMITS);
    const now = Date.now();
    s.deliver(msg('old', 1, 'x', now + 1000), 1, false, undefined);
    s.deliver(msg('new'), 1, false, undefined);
    const t = new RecordingTarget();
    s.attach(t, clientInfo('c'), access);
    s.resume(now + 2000);
    assert.deepEqual(t.log(), ['new q1 #1']);
    assert.equal(s.dropped, 1);
  });
});

describe('Session QoS 2 and resume', () => {
  test('outgoing QoS 2: PUBREC releases it, PUBCOMP completes it; PUBREC for a QoS 1 id is refused', () => {
    const { s, t } = online();
    s.deliver(msg('a', 2), 2, false, undefined);
    s.deliver(msg('b', 1), 1, false, undefined);
    assert.equal(s.received(2), false);
    assert.equal(s.received(1), true);
    assert.equal(s.inflight.get(1)!.released, true);
    assert.equal(s.complete(1, Date.now()), true);
    assert.equal(s.inflightCount, 1);
    assert.deepEqual(t.log(), ['a q2 #1', 'b q1 #2']);
  });

  test('on resume, unacknowledged PUBLISH go again with DUP and their ids, released ones as PUBREL, in order', () => {
    const { s } = online();
    s.deliver(msg('a', 2), 2, false, undefined);
    s.deliver(msg('b', 1), 1, false, undefined);
    s.deliver(msg('c', 2), 2, false, undefined);
    s.received(1);
    s.detach(Date.now());
    s.deliver(msg('d', 1), 1, false, undefined);
    assert.equal(s.queuedCount, 1);
    const t2 = new RecordingTarget();
    s.attach(t2, clientInfo('c'), access);
    s.resume(Date.now());
    assert.deepEqual(t2.log(), ['PUBREL #1', 'b q1 #2 dup', 'c q2 #3 dup', 'd q1 #4']);
  });

  test('incoming QoS 2 ids are held until PUBREL and reported to storage both ways', () => {
    const calls: string[] = [];
    const store: SessionPersistence = {
      stored: () => {},
      removed: () => {},
      hold: () => false,
      incoming: (id, present) => calls.push(`${id}:${present}`),
    };
    const { s } = online();
    s.setPersistence(store);
    assert.equal(s.hasIncoming(5), false);
    s.recordIncoming(5);
    s.recordIncoming(6);
    assert.equal(s.hasIncoming(5), true);
    assert.equal(s.incomingCount, 2);
    assert.equal(s.releaseIncoming(5), true);
    assert.equal(s.releaseIncoming(5), false);
    assert.deepEqual([...s.incomingIds()], [6]);
    assert.deepEqual(calls, ['5:true', '6:true', '5:false']);
  });

  test('a held QoS 2 PUBLISH waits for sendHeld, is skipped by resume, and goes out once', () => {
    const held: Delivery[] = [];
    const store: SessionPersistence = {
      stored: () => {},
      removed: () => {},
      hold: (d) => {
        held.push(d);
        return true;
      },
      incoming: () => {},
    };
    const { s, t } = online();
    s.setPersistence(store);
    s.deliver(msg('a', 2), 2, false, undefined);
    assert.deepEqual(t.log(), []);
    assert.equal(held.length, 1);
    s.resume(Date.now());
    assert.deepEqual(t.log(), []);
    s.sendHeld(1);
    s.sendHeld(1);
    assert.deepEqual(t.log(), ['a q2 #1']);
  });
});

describe('Session packet ids and identity', () => {
  test('packet ids skip those in flight and wrap from 65535 to 1', () => {
    const { s, t } = online({ maxInflight: 65535 });
    for (let i = 0; i < 65534; i++) s.deliver(msg('t'), 1, false, undefined);
    assert.equal(s.inflightCount, 65534);
    s.complete(3, Date.now());
    // 65535 is the last free id, then the search wraps and finds the one freed.
    s.deliver(msg('x'), 1, false, undefined);
    s.deliver(msg('y'), 1, false, undefined);
    assert.deepEqual(t.log().slice(-2), ['x q1 #65535', 'y q1 #3']);
  });

  test('attach records who the client is; detach keeps it and notes when it left', () => {
    const s = new Session('c', 4, 60, LIMITS);
    s.attach(new RecordingTarget(), clientInfo('c', 'alice'), access);
    assert.equal(s.username, 'alice');
    assert.equal(s.listener, 'tcp:1883');
    assert.equal(s.disconnectedAt, 0);
    s.detach(1234);
    assert.equal(s.online, false);
    assert.equal(s.disconnectedAt, 1234);
    assert.equal(s.username, 'alice');
    s.reidentify(clientInfo('c', 'bob'), undefined);
    assert.equal(s.username, 'bob');
  });

  test('a delayed will is due at its time, is taken once, and a resume cancels it', () => {
    const s = new Session('c', 5, 60, LIMITS);
    const will = { topic: 'w', payload: Buffer.from('bye'), qos: 0 as QoS, retain: false };
    s.delayWill(will, 1000);
    assert.equal(s.takeWill(999), undefined);
    assert.equal(s.takeWill(1000), will);
    assert.equal(s.takeWill(5000), undefined);
    s.delayWill(will, 1000);
    s.resumed(5, 120);
    assert.equal(s.pendingWill, undefined);
    assert.equal(s.expiryInterval, 120);
  });

  test('overlapping matches in one routing pass keep the highest QoS and every subscription id', () => {
    const s = new Session('c', 5, 60, LIMITS);
    assert.equal(s.noteMatch(1, 0, false, 4), true);
    assert.equal(s.noteMatch(1, 2, true, undefined), false);
    assert.equal(s.noteMatch(1, 1, false, 9), false);
    assert.equal(s.routeQos, 2);
    assert.equal(s.routeRetainAsPublished, true);
    assert.deepEqual(s.routeSubIds, [4, 9]);
    assert.equal(s.noteMatch(2, 1, false, undefined), true);
    assert.equal(s.routeQos, 1);
    assert.equal(s.routeSubIds, undefined);
  });

  test('an in-process session hands every delivery straight to its sink, online or not', () => {
    const s = new Session('bridge', 5, 0, LIMITS);
    const sink = new RecordingTarget();
    s.deliverTo(sink, access);
    s.deliver(msg('a', 2), 2, false, undefined);
    s.deliver(msg('b', 0), 0, false, undefined);
    assert.deepEqual(sink.log(), ['a q2', 'b q0']);
    assert.equal(s.inflightCount + s.queuedCount, 0);
  });
});
