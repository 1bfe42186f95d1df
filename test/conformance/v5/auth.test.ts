/**
 * MQTT 5.0 conformance, enhanced authentication (spec 4.12) with the built-in
 * SCRAM-SHA-256 method, driven by a real client-side SCRAM computation.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { scramCredentialsFromUsers, scramSha256 } from '../../../src/broker/scram-auth.js';
import { PacketType, ReasonCode } from '../../../src/protocol/constants.js';
import type { AuthPacket, ConnackPacket } from '../../../src/protocol/packets.js';
import { startBroker, suiteBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { serverDisconnect, v5, v5Connack } from './support.js';

type Auth = AuthPacket;
type Connack = ConnackPacket;
const M = 'SCRAM-SHA-256';
const hmac = (k: Buffer, s: string): Buffer => createHmac('sha256', k).update(s).digest();

/** Client side of SCRAM-SHA-256, computed independently of the broker code. */
class ScramClient {
  readonly nonce = randomBytes(12).toString('base64');
  readonly first: string;
  private salted: Buffer | undefined;
  private authMessage = '';
  constructor(
    readonly user: string,
    readonly password: string,
  ) {
    this.first = `n=${user},r=${this.nonce}`;
  }
  clientFirst(): Buffer {
    return Buffer.from(`n,,${this.first}`);
  }
  clientFinal(serverFirst: Buffer): Buffer {
    const sf = serverFirst.toString();
    const a = Object.fromEntries(sf.split(',').map((kv) => [kv[0], kv.slice(2)]));
    assert.ok(a.r!.startsWith(this.nonce));
    this.salted = pbkdf2Sync(this.password, Buffer.from(a.s!, 'base64'), Number(a.i), 32, 'sha256');
    const clientKey = hmac(this.salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const without = `c=biws,r=${a.r}`;
    this.authMessage = `${this.first},${sf},${without}`;
    const sig = hmac(storedKey, this.authMessage);
    const proof = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) proof[i] = clientKey[i]! ^ sig[i]!;
    return Buffer.from(`${without},p=${proof.toString('base64')}`);
  }
  verifyServer(serverFinal: Buffer): boolean {
    const expected = hmac(hmac(this.salted!, 'Server Key'), this.authMessage).toString('base64');
    return serverFinal.toString() === `v=${expected}`;
  }
}

async function scramConnect(port: number, user: string, password: string) {
  const sc = new ScramClient(user, password);
  const c = await RawClient.connect(port, 5);
  c.send({
    type: PacketType.CONNECT,
    protocolName: 'MQTT',
    protocolVersion: 5,
    clean: true,
    keepalive: 0,
    clientId: `scram-${user}`,
    properties: { authenticationMethod: M, authenticationData: sc.clientFirst() },
  });
  const challenge = await c.nextOfType<Auth>(PacketType.AUTH);
  return { c, sc, challenge };
}

describe('MQTT 5 enhanced authentication (SCRAM-SHA-256)', () => {
  const tb = suiteBroker({
    authMethods: {
      [M]: scramSha256({ credentials: scramCredentialsFromUsers({ alice: 'wonderland' }, 4096) }),
    },
  });

  test('[MQTT-4.12.0-2] [MQTT-4.12.0-3] [MQTT-4.12.0-5] a SCRAM exchange: AUTH 0x18 challenge, CONNACK 0 with the method and a verifiable server signature', async () => {
    const { c, sc, challenge } = await scramConnect(tb.port, 'alice', 'wonderland');
    assert.equal(challenge.reasonCode, ReasonCode.ContinueAuthentication);
    assert.equal(challenge.properties?.authenticationMethod, M);
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: {
        authenticationMethod: M,
        authenticationData: sc.clientFinal(challenge.properties!.authenticationData!),
      },
    });
    const ack = await c.nextOfType<Connack>(PacketType.CONNACK);
    assert.equal(ack.reasonCode, 0);
    assert.equal(ack.properties?.authenticationMethod, M);
    assert.equal(sc.verifyServer(ack.properties!.authenticationData!), true);
    c.destroy();
  });

  test('[MQTT-4.12.0-4] a wrong password is refused with CONNACK >= 0x80 and the connection closed', async () => {
    const { c, sc, challenge } = await scramConnect(tb.port, 'alice', 'looking-glass');
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: {
        authenticationMethod: M,
        authenticationData: sc.clientFinal(challenge.properties!.authenticationData!),
      },
    });
    const ack = await c.nextOfType<Connack>(PacketType.CONNACK);
    assert.ok(ack.reasonCode >= 0x80);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-4.12.0-4] an unknown user is refused the same way (no user enumeration at the challenge)', async () => {
    const { c, sc, challenge } = await scramConnect(tb.port, 'mallory', 'x');
    assert.equal(challenge.reasonCode, ReasonCode.ContinueAuthentication);
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: {
        authenticationMethod: M,
        authenticationData: sc.clientFinal(challenge.properties!.authenticationData!),
      },
    });
    assert.ok((await c.nextOfType<Connack>(PacketType.CONNACK)).reasonCode >= 0x80);
  });

  test('[MQTT-4.12.0-1] an unsupported Authentication Method: CONNACK 0x8C and close', async () => {
    const { c, ack } = await v5Connack(tb.port, {
      properties: { authenticationMethod: 'KERBEROS' },
    });
    assert.equal(ack.reasonCode, ReasonCode.BadAuthenticationMethod);
    assert.equal(await c.waitClosed(), true);
  });

  test('[MQTT-4.12.0-6] without an Authentication Method the broker sends no AUTH and no method in CONNACK', async () => {
    const { c, ack } = await v5Connack(tb.port);
    assert.equal(ack.properties?.authenticationMethod, undefined);
    assert.equal(c.received.filter((p) => p.type === PacketType.AUTH).length, 0);
    c.destroy();
  });

  test('[MQTT-4.12.0-7] AUTH from a client that connected without a method is a protocol error', async () => {
    const c = await v5(tb.port);
    c.send({ type: PacketType.AUTH, reasonCode: 0x19, properties: { authenticationMethod: M } });
    assert.equal(await serverDisconnect(c), ReasonCode.ProtocolError);
  });

  test('[MQTT-4.12.1-1] re-authentication (AUTH 0x19) with the same method completes with AUTH 0x00', async () => {
    const { c, sc, challenge } = await scramConnect(tb.port, 'alice', 'wonderland');
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: {
        authenticationMethod: M,
        authenticationData: sc.clientFinal(challenge.properties!.authenticationData!),
      },
    });
    assert.equal((await c.nextOfType<Connack>(PacketType.CONNACK)).reasonCode, 0);
    const again = new ScramClient('alice', 'wonderland');
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x19,
      properties: { authenticationMethod: M, authenticationData: again.clientFirst() },
    });
    const ch = await c.nextOfType<Auth>(PacketType.AUTH);
    assert.equal(ch.reasonCode, 0x18);
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: {
        authenticationMethod: M,
        authenticationData: again.clientFinal(ch.properties!.authenticationData!),
      },
    });
    const done = await c.nextOfType<Auth>(PacketType.AUTH);
    assert.equal(done.reasonCode, 0);
    assert.equal(again.verifyServer(done.properties!.authenticationData!), true);
    c.send({ type: PacketType.PINGREQ });
    await c.nextOfType(PacketType.PINGRESP);
    c.destroy();
  });

  test('[MQTT-4.12.1-2] a failed re-authentication: DISCONNECT and close', async () => {
    const { c, sc, challenge } = await scramConnect(tb.port, 'alice', 'wonderland');
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: {
        authenticationMethod: M,
        authenticationData: sc.clientFinal(challenge.properties!.authenticationData!),
      },
    });
    await c.nextOfType<Connack>(PacketType.CONNACK);
    const bad = new ScramClient('alice', 'nope');
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x19,
      properties: { authenticationMethod: M, authenticationData: bad.clientFirst() },
    });
    const ch = await c.nextOfType<Auth>(PacketType.AUTH);
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: {
        authenticationMethod: M,
        authenticationData: bad.clientFinal(ch.properties!.authenticationData!),
      },
    });
    assert.ok((await serverDisconnect(c)) >= 0x80);
    assert.equal(await c.waitClosed(), true);
  });

  test('a custom method through the hook API (authMethods) with a multi-step exchange', async () => {
    const r = await startBroker({
      authMethods: {
        'x-otp': () => ({
          start: () => ({ status: 'continue', data: Buffer.from('code?') }),
          continue: (d) =>
            d?.toString() === '1234'
              ? { status: 'success', username: 'otp-user' }
              : { status: 'failure', reasonCode: 0x87 },
        }),
      },
    });
    let who: string | undefined;
    r.broker.on('clientConnected', (ci) => {
      who = ci.username;
    });
    const c = await RawClient.connect(r.port, 5);
    c.send({
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 5,
      clean: true,
      keepalive: 0,
      clientId: 'otp',
      properties: { authenticationMethod: 'x-otp' },
    });
    assert.equal(
      (await c.nextOfType<Auth>(PacketType.AUTH)).properties?.authenticationData?.toString(),
      'code?',
    );
    c.send({
      type: PacketType.AUTH,
      reasonCode: 0x18,
      properties: { authenticationMethod: 'x-otp', authenticationData: Buffer.from('1234') },
    });
    assert.equal((await c.nextOfType<Connack>(PacketType.CONNACK)).reasonCode, 0);
    assert.equal(who, 'otp-user');
    c.destroy();
    await r.close();
  });
});
