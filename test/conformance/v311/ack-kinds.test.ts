import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PacketType, type ProtocolVersion, type QoS } from '../../../src/protocol/constants.js';
import type { DisconnectPacket, Packet, PublishPacket } from '../../../src/protocol/packets.js';
import {
  assertClosed,
  type Harness,
  nextPublish,
  publish,
  subscribe,
  suiteHarness,
  uid,
} from './support.js';

// An acknowledgement of the wrong kind for a PUBLISH the broker sent (PUBACK for
// QoS 2, PUBREC or PUBCOMP for QoS 1, PUBCOMP before PUBREC) is a protocol
// violation: the connection closes and the delivery is not completed, so the
// client gets it again when it resumes its session.

type Wrong = (pid: number) => Packet;

const puback: Wrong = (packetId) => ({ type: PacketType.PUBACK, packetId, reasonCode: 0 });
const pubrec: Wrong = (packetId) => ({ type: PacketType.PUBREC, packetId, reasonCode: 0 });
const pubcomp: Wrong = (packetId) => ({ type: PacketType.PUBCOMP, packetId, reasonCode: 0 });

/**
 * A persistent subscriber gets a message of `qos`, answers it with `wrong`
 * (after a correct PUBREC when `afterPubrec`), must be disconnected, and gets
 * the message again (DUP, same packet id) or its PUBREL when it comes back.
 */
async function wrongAck(
  h: Harness,
  version: ProtocolVersion,
  qos: QoS,
  wrong: Wrong,
  afterPubrec = false,
): Promise<void> {
  const id = uid('wa');
  const topic = `wrongack/${id}`;
  const fields = version === 5 ? { properties: { sessionExpiryInterval: 300 } } : {};
  const sub = await h.connect({ clientId: id, clean: false, ...fields }, version);
  await subscribe(sub, topic, 2);
  const pub = await h.connect({}, version);
  await publish(pub, topic, 'once', qos);
  const first = await nextPublish(sub, topic);
  assert.equal(first.qos, qos);
  if (afterPubrec) {
    sub.send(pubrec(first.packetId));
    await sub.next((p) => p.type === PacketType.PUBREL && p.packetId === first.packetId);
  }
  sub.send(wrong(first.packetId));
  if (version === 5) {
    const d = await sub.nextOfType<DisconnectPacket>(PacketType.DISCONNECT);
    assert.equal(d.reasonCode, 0x82);
  }
  await assertClosed(sub);

  const back = await h.socket(version);
  const ack = await back.handshake({ clientId: id, clean: false, ...fields });
  assert.equal(ack.sessionPresent, true);
  if (afterPubrec) {
    const rel = await back.nextOfType(PacketType.PUBREL);
    assert.equal((rel as { packetId: number }).packetId, first.packetId);
  } else {
    const again = await back.next<PublishPacket>((p) => p.type === PacketType.PUBLISH);
    assert.equal(again.packetId, first.packetId);
    assert.equal(again.dup, true);
    assert.equal(again.payload.toString(), 'once');
  }
}

describe('acknowledgements of the wrong kind (3.1.1)', () => {
  const h = suiteHarness();

  test('[MQTT-4.8.0-1] PUBACK for a QoS 2 PUBLISH closes the connection; it is re-sent on resume', () =>
    wrongAck(h, 4, 2, puback));

  test('[MQTT-4.8.0-1] PUBREC for a QoS 1 PUBLISH closes the connection; it is re-sent on resume', () =>
    wrongAck(h, 4, 1, pubrec));

  test('[MQTT-4.8.0-1] PUBCOMP for a QoS 1 PUBLISH closes the connection; it is re-sent on resume', () =>
    wrongAck(h, 4, 1, pubcomp));

  test('[MQTT-4.8.0-1] PUBCOMP before PUBREC closes the connection; the PUBLISH is re-sent on resume', () =>
    wrongAck(h, 4, 2, pubcomp));

  test('[MQTT-4.8.0-1] PUBACK after PUBREC closes the connection; PUBREL is re-sent on resume', () =>
    wrongAck(h, 4, 2, puback, true));
});

describe('acknowledgements of the wrong kind (5.0)', () => {
  const h = suiteHarness();

  test('[MQTT-4.13.1-1] PUBACK for a QoS 2 PUBLISH: DISCONNECT 0x82; it is re-sent on resume', () =>
    wrongAck(h, 5, 2, puback));

  test('[MQTT-4.13.1-1] PUBREC for a QoS 1 PUBLISH: DISCONNECT 0x82; it is re-sent on resume', () =>
    wrongAck(h, 5, 1, pubrec));

  test('[MQTT-4.13.1-1] PUBCOMP before PUBREC: DISCONNECT 0x82; the PUBLISH is re-sent on resume', () =>
    wrongAck(h, 5, 2, pubcomp));
});
