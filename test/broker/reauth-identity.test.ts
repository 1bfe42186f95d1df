import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AclFile } from '../../src/auth/acl.js';
import type { AuthMethod } from '../../src/broker/enhanced-auth.js';
import { PacketType } from '../../src/protocol/constants.js';
import type { AuthPacket, Packet, PublishPacket } from '../../src/protocol/packets.js';
import { startBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

type Publish = PublishPacket;

/** A method whose Authentication Data is the user name to become (a stand-in for a token). */
const token: AuthMethod = () => ({
  start: (data) => ({ status: 'success', username: data?.toString() }),
  continue: () => ({ status: 'failure' }),
});

test('v5 re-authentication as another user: deliveries follow the new identity’s ACL', async () => {
  const tb = await startBroker({
    authMethods: { TOKEN: token },
    aclFile: AclFile.parse('user alice\ntopic read a/#\nuser bob\ntopic read b/#\n', 'acl'),
    allowAnonymous: true,
  });
  try {
    const c = await RawClient.connect(tb.port, 5);
    const ack = await c.handshake({
      clientId: 'switcher',
      properties: { authenticationMethod: 'TOKEN', authenticationData: Buffer.from('alice') },
    });
    assert.equal(ack.reasonCode, 0);
    c.send({
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [
        { topic: 'a/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topic: 'b/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    } as Packet);
    await c.nextOfType(PacketType.SUBACK);
    const publish = (topic: string) =>
      tb.broker.publish({ topic, payload: Buffer.from(topic), qos: 0, retain: false });
    publish('a/1');
    publish('b/1');
    assert.deepEqual(
      (await c.quiet(200))
        .filter((p) => p.type === PacketType.PUBLISH)
        .map((p) => (p as Publish).topic),
      ['a/1'],
    );
    c.received.length = 0;
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x19,
      properties: { authenticationMethod: 'TOKEN', authenticationData: Buffer.from('bob') },
    });
    const done = await c.nextOfType<AuthPacket>(PacketType.AUTH);
    assert.equal(done.reasonCode, 0);
    publish('a/2');
    publish('b/2');
    assert.deepEqual(
      (await c.quiet(200))
        .filter((p) => p.type === PacketType.PUBLISH)
        .map((p) => (p as Publish).topic),
      ['b/2'],
    );
    c.destroy();
  } finally {
    await tb.close();
  }
});
