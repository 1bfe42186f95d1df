// Every malformed or illegal packet the specs describe is rejected with a
// ProtocolError carrying the right v5 reason code and, where the spec has one,
// the normative statement id (which also names the test).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decoder, ProtocolError, type ProtocolVersion } from '../../src/protocol/index.js';

const MALFORMED = 0x81;
const PROTOCOL = 0x82;

function vbi(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Length-prefixed UTF-8 string, or raw bytes given as an array. */
function str(s: string | number[]): number[] {
  const bytes = typeof s === 'string' ? [...Buffer.from(s)] : s;
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

/** A packet with the remaining length computed. */
function pkt(first: number, ...body: number[][]): Buffer {
  const flat = body.flat();
  return Buffer.from([first, ...vbi(flat.length), ...flat]);
}

/** A v5 property list. */
function props(...entries: number[][]): number[] {
  const flat = entries.flat();
  return [...vbi(flat.length), ...flat];
}

const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

/** CONNECT with the given flags; payload fields follow the flags. */
function connect(level: number, flags: number, payload: number[][] = [], name = 'MQTT'): Buffer {
  const p = level === 5 ? [props()] : [];
  return pkt(0x10, str(name), [level, flags], u16(60), ...p, str('cid'), ...payload);
}

function rejects(
  bytes: Buffer,
  version: ProtocolVersion,
  reasonCode: number,
  statement?: string,
): void {
  const decoder = new Decoder(
    { onPacket: () => assert.fail('no packet expected') },
    {
      protocolVersion: version,
    },
  );
  assert.throws(
    () => decoder.feed(bytes),
    (err: unknown) => {
      assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${err}`);
      assert.equal(err.reasonCode, reasonCode, err.message);
      if (statement !== undefined) assert.equal(err.statement, statement, err.message);
      return true;
    },
  );
}

const pub = (first: number, topic: string | number[], ...rest: number[][]) =>
  pkt(first, str(topic), ...rest);

describe('fixed header', () => {
  test('[MQTT-2.2.2-2] PINGREQ with reserved flags set', () =>
    rejects(Buffer.from([0xc1, 0]), 4, MALFORMED, 'MQTT-2.2.2-2'));
  test('[MQTT-2.2.2-2] CONNECT with reserved flags set', () =>
    rejects(Buffer.from([0x18, 0]), 4, MALFORMED, 'MQTT-2.2.2-2'));
  test('[MQTT-2.2.2-2] PUBREL flags must be 0010', () =>
    rejects(pkt(0x60, u16(1)), 4, MALFORMED, 'MQTT-2.2.2-2'));
  test('[MQTT-2.2.2-2] SUBSCRIBE flags must be 0010', () =>
    rejects(pkt(0x80, u16(1), str('a'), [0]), 4, MALFORMED, 'MQTT-2.2.2-2'));
  test('[MQTT-2.2.2-2] UNSUBSCRIBE flags must be 0010', () =>
    rejects(pkt(0xa0, u16(1), str('a')), 4, MALFORMED, 'MQTT-2.2.2-2'));
  test('[MQTT-2.1.3-1] v5 PUBACK with reserved flags set', () =>
    rejects(pkt(0x41, u16(1)), 5, MALFORMED, 'MQTT-2.1.3-1'));
  test('reserved packet type 0', () => rejects(Buffer.from([0x00, 0]), 4, MALFORMED));
  test('AUTH before MQTT 5.0', () => rejects(Buffer.from([0xf0, 0]), 4, MALFORMED));
  test('remaining length longer than 4 bytes', () =>
    rejects(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 4, MALFORMED));
  test('[MQTT-1.5.5-1] remaining length not minimally encoded', () =>
    rejects(Buffer.from([0xc0, 0x80, 0x00]), 5, MALFORMED, 'MQTT-1.5.5-1'));
});

describe('lengths', () => {
  test('string length overruns the packet', () =>
    rejects(pkt(0x30, [0, 10, 0x61, 0x62]), 4, MALFORMED));
  test('PINGREQ with a body', () => rejects(pkt(0xc0, [0]), 4, MALFORMED));
  test('v3.1.1 PUBACK with trailing bytes', () => rejects(pkt(0x40, u16(1), [0]), 4, MALFORMED));
  test('v3.1.1 DISCONNECT with a body', () => rejects(pkt(0xe0, [0]), 4, MALFORMED));
  test('v3.1.1 UNSUBACK with reason codes', () => rejects(pkt(0xb0, u16(1), [0]), 4, MALFORMED));
  test('CONNECT with trailing bytes', () =>
    rejects(pkt(0x10, str('MQTT'), [4, 0x02], u16(60), str('cid'), [0]), 4, MALFORMED));
  test('packet too short for its packet identifier', () => rejects(pkt(0x40, [1]), 4, MALFORMED));
  test('property length overruns the packet', () =>
    rejects(pkt(0x30, str('t'), [5, 0x01]), 5, MALFORMED));
  test('property value truncated', () =>
    rejects(pkt(0x30, str('t'), [3, 0x02, 0, 0]), 5, MALFORMED));
  test('subscription identifier longer than 4 bytes', () =>
    rejects(pkt(0x30, str('t'), props([0x0b, 0xff, 0xff, 0xff, 0xff, 0x01])), 5, MALFORMED));
});

describe('UTF-8 strings', () => {
  test('[MQTT-1.5.3-1] ill-formed UTF-8 in a topic name', () =>
    rejects(pub(0x30, [0x61, 0xff]), 4, MALFORMED, 'MQTT-1.5.3-1'));
  test('[MQTT-1.5.3-1] UTF-16 surrogate encoded in a client id', () =>
    rejects(
      pkt(0x10, str('MQTT'), [4, 0x02], u16(60), str([0xed, 0xa0, 0x80])),
      4,
      MALFORMED,
      'MQTT-1.5.3-1',
    ));
  test('[MQTT-1.5.4-1] ill-formed UTF-8 in a v5 reason string', () =>
    rejects(pkt(0x40, u16(1), [0x80], props([0x1f], str([0xc3]))), 5, MALFORMED, 'MQTT-1.5.4-1'));
  test('[MQTT-1.5.3-2] U+0000 in a topic name', () =>
    rejects(pub(0x30, [0x61, 0x00]), 4, MALFORMED, 'MQTT-1.5.3-2'));
  test('[MQTT-1.5.3-2] U+0000 after non-ASCII text in a topic filter', () =>
    rejects(pkt(0x82, u16(1), str([0xc3, 0xa9, 0x00]), [0]), 4, MALFORMED, 'MQTT-1.5.3-2'));
  test('[MQTT-1.5.4-2] U+0000 in a v5 user property', () =>
    rejects(
      pkt(0x30, str('t'), props([0x26], str('k'), str([0x61, 0]))),
      5,
      MALFORMED,
      'MQTT-1.5.4-2',
    ));
});

describe('PUBLISH', () => {
  test('[MQTT-3.3.1-4] QoS 3', () => rejects(pub(0x36, 't', u16(1)), 4, MALFORMED, 'MQTT-3.3.1-4'));
  test('[MQTT-3.3.1-2] DUP set on QoS 0', () =>
    rejects(pub(0x38, 't'), 4, MALFORMED, 'MQTT-3.3.1-2'));
  test('[MQTT-3.3.2-2] + in a topic name', () =>
    rejects(pub(0x30, 'a/+/b'), 4, 0x90, 'MQTT-3.3.2-2'));
  test('[MQTT-3.3.2-2] # in a non-ASCII topic name', () =>
    rejects(pub(0x30, 'é/#'), 5, 0x90, 'MQTT-3.3.2-2'));
  test('[MQTT-4.7.3-1] empty topic name in v3.1.1', () =>
    rejects(pub(0x30, ''), 4, MALFORMED, 'MQTT-4.7.3-1'));
  test('v5 empty topic name without a topic alias', () =>
    rejects(pub(0x30, '', props()), 5, PROTOCOL));
  test('[MQTT-2.3.1-1] QoS 1 with packet identifier 0', () =>
    rejects(pub(0x32, 't', u16(0)), 4, PROTOCOL, 'MQTT-2.3.1-1'));
  test('[MQTT-2.2.1-3] v5 QoS 2 with packet identifier 0', () =>
    rejects(pub(0x34, 't', u16(0), props()), 5, PROTOCOL, 'MQTT-2.2.1-3'));
  test('[MQTT-3.3.2-8] topic alias 0', () =>
    rejects(pub(0x30, 't', props([0x23, 0, 0])), 5, 0x94, 'MQTT-3.3.2-8'));
  test('[MQTT-3.3.2-14] response topic with a wildcard', () =>
    rejects(pub(0x30, 't', props([0x08], str('r/#'))), 5, PROTOCOL, 'MQTT-3.3.2-14'));
  test('payload format indicator above 1', () =>
    rejects(pub(0x30, 't', props([0x01, 2])), 5, PROTOCOL));
  test('subscription identifier 0', () => rejects(pub(0x30, 't', props([0x0b, 0])), 5, PROTOCOL));
});

describe('properties', () => {
  test('duplicate non-repeatable property', () =>
    rejects(pub(0x30, 't', props([0x02, ...u32(1)], [0x02, ...u32(2)])), 5, PROTOCOL));
  test('property not allowed in the packet (session expiry in PUBLISH)', () =>
    rejects(pub(0x30, 't', props([0x11, ...u32(1)])), 5, MALFORMED));
  test('property not allowed in will properties (session expiry)', () =>
    rejects(
      pkt(
        0x10,
        str('MQTT'),
        [5, 0x06],
        u16(60),
        props(),
        str('c'),
        props([0x11, ...u32(1)]),
        str('w'),
        str('x'),
      ),
      5,
      MALFORMED,
    ));
  test('will delay interval is not allowed in CONNECT properties', () =>
    rejects(
      pkt(0x10, str('MQTT'), [5, 0x02], u16(60), props([0x18, ...u32(1)]), str('c')),
      5,
      MALFORMED,
    ));
  test('unknown property identifier', () =>
    rejects(pub(0x30, 't', props([0x7f, 0])), 5, MALFORMED));
  test('receive maximum 0', () =>
    rejects(
      pkt(0x10, str('MQTT'), [5, 0x02], u16(60), props([0x21, 0, 0]), str('c')),
      5,
      PROTOCOL,
    ));
  test('maximum packet size 0', () =>
    rejects(
      pkt(0x10, str('MQTT'), [5, 0x02], u16(60), props([0x27, ...u32(0)]), str('c')),
      5,
      PROTOCOL,
    ));
  test('request problem information above 1', () =>
    rejects(pkt(0x10, str('MQTT'), [5, 0x02], u16(60), props([0x17, 2]), str('c')), 5, PROTOCOL));
  test('request response information above 1', () =>
    rejects(pkt(0x10, str('MQTT'), [5, 0x02], u16(60), props([0x19, 2]), str('c')), 5, PROTOCOL));
  test('maximum QoS above 1 in CONNACK', () =>
    rejects(pkt(0x20, [0, 0], props([0x24, 2])), 5, PROTOCOL));
  test('retain available above 1 in CONNACK', () =>
    rejects(pkt(0x20, [0, 0], props([0x25, 2])), 5, PROTOCOL));
  test('more than one subscription identifier in SUBSCRIBE', () =>
    rejects(pkt(0x82, u16(1), props([0x0b, 1], [0x0b, 2]), str('a'), [0]), 5, PROTOCOL));
});

describe('SUBSCRIBE and UNSUBSCRIBE', () => {
  const sub = (v: ProtocolVersion, filter: string, opts = 0) =>
    pkt(0x82, u16(1), v === 5 ? props() : [], str(filter), [opts]);
  test('[MQTT-4.7.1-2] # not last: a/#/b', () =>
    rejects(sub(4, 'a/#/b'), 4, MALFORMED, 'MQTT-4.7.1-2'));
  test('[MQTT-4.7.1-2] # not a whole level: #a and a#', () => {
    rejects(sub(4, '#a'), 4, MALFORMED, 'MQTT-4.7.1-2');
    rejects(sub(5, 'a#'), 5, MALFORMED, 'MQTT-4.7.1-2');
  });
  test('[MQTT-4.7.1-3] + not a whole level: a+ and +a/b', () => {
    rejects(sub(4, 'a+'), 4, MALFORMED, 'MQTT-4.7.1-3');
    rejects(sub(5, '+a/b'), 5, MALFORMED, 'MQTT-4.7.1-3');
  });
  test('[MQTT-4.7.3-1] empty topic filter', () =>
    rejects(sub(4, ''), 4, MALFORMED, 'MQTT-4.7.3-1'));
  test('[MQTT-4.7.1-2] invalid filter in UNSUBSCRIBE', () =>
    rejects(pkt(0xa2, u16(1), str('x/#/')), 4, MALFORMED, 'MQTT-4.7.1-2'));
  test('[MQTT-2.3.1-1] SUBSCRIBE with packet identifier 0', () =>
    rejects(pkt(0x82, u16(0), str('a'), [0]), 4, PROTOCOL, 'MQTT-2.3.1-1'));
  test('[MQTT-2.3.1-1] UNSUBSCRIBE with packet identifier 0', () =>
    rejects(pkt(0xa2, u16(0), str('a')), 4, PROTOCOL, 'MQTT-2.3.1-1'));
  test('[MQTT-3.8.3-3] SUBSCRIBE with no topic filters', () =>
    rejects(pkt(0x82, u16(1)), 4, PROTOCOL, 'MQTT-3.8.3-3'));
  test('[MQTT-3.8.3-2] v5 SUBSCRIBE with no topic filters', () =>
    rejects(pkt(0x82, u16(1), props()), 5, PROTOCOL, 'MQTT-3.8.3-2'));
  test('[MQTT-3.10.3-2] UNSUBSCRIBE with no topic filters', () =>
    rejects(pkt(0xa2, u16(1)), 4, PROTOCOL, 'MQTT-3.10.3-2'));
  test('[MQTT-3-8.3-4] v3.1.1 requested QoS reserved bits set', () =>
    rejects(sub(4, 'a', 0x04), 4, MALFORMED, 'MQTT-3-8.3-4'));
  test('[MQTT-3-8.3-4] v3.1.1 requested QoS 3', () =>
    rejects(sub(4, 'a', 0x03), 4, MALFORMED, 'MQTT-3-8.3-4'));
  test('[MQTT-3.8.3-5] v5 subscription options reserved bits set', () =>
    rejects(sub(5, 'a', 0x40), 5, MALFORMED, 'MQTT-3.8.3-5'));
  test('[MQTT-3.8.3-5] v5 maximum QoS 3', () => rejects(sub(5, 'a', 0x03), 5, MALFORMED));
  test('v5 retain handling 3', () => rejects(sub(5, 'a', 0x30), 5, PROTOCOL));
  test('[MQTT-3.8.3-4] no local on a shared subscription', () =>
    rejects(sub(5, '$share/g/a', 0x04), 5, PROTOCOL, 'MQTT-3.8.3-4'));
  test('[MQTT-3.9.3-2] v3.1.1 SUBACK with a reserved return code', () =>
    rejects(pkt(0x90, u16(1), [3]), 4, MALFORMED, 'MQTT-3.9.3-2'));
});

describe('CONNECT and CONNACK', () => {
  test('[MQTT-3.1.2-3] reserved connect flag set', () =>
    rejects(connect(4, 0x03), 4, MALFORMED, 'MQTT-3.1.2-3'));
  test('[MQTT-3.1.2-13] v3.1.1 will QoS without will flag', () =>
    rejects(connect(4, 0x0a), 4, MALFORMED, 'MQTT-3.1.2-13'));
  test('[MQTT-3.1.2-15] v3.1.1 will retain without will flag', () =>
    rejects(connect(4, 0x22), 4, MALFORMED, 'MQTT-3.1.2-15'));
  test('[MQTT-3.1.2-14] v3.1.1 will QoS 3', () =>
    rejects(connect(4, 0x1e, [str('w'), str('x')]), 4, MALFORMED, 'MQTT-3.1.2-14'));
  test('[MQTT-3.1.2-11] v5 will QoS without will flag', () =>
    rejects(connect(5, 0x12), 5, MALFORMED, 'MQTT-3.1.2-11'));
  test('[MQTT-3.1.2-13] v5 will retain without will flag', () =>
    rejects(connect(5, 0x22), 5, MALFORMED, 'MQTT-3.1.2-13'));
  test('[MQTT-3.1.2-12] v5 will QoS 3', () =>
    rejects(connect(5, 0x1e, [props(), str('w'), str('x')]), 5, MALFORMED, 'MQTT-3.1.2-12'));
  test('[MQTT-3.1.2-22] v3.1.1 password without user name', () =>
    rejects(connect(4, 0x42, [str('pw')]), 4, MALFORMED, 'MQTT-3.1.2-22'));
  test('[MQTT-3.1.2-22] v3.1 password without user name', () =>
    rejects(connect(3, 0x42, [str('pw')], 'MQIsdp'), 4, MALFORMED, 'MQTT-3.1.2-22'));
  test('[MQTT-3.1.2-2] unsupported protocol level', () => {
    rejects(connect(6, 0x02), 4, 0x84, 'MQTT-3.1.2-2');
    rejects(connect(3, 0x02), 4, 0x84, 'MQTT-3.1.2-2');
    rejects(connect(4, 0x02, [], 'MQIsdp'), 4, 0x84, 'MQTT-3.1.2-2');
  });
  test('[MQTT-3.1.2-1] unknown protocol name', () =>
    rejects(connect(4, 0x02, [], 'MQTX'), 4, 0x84, 'MQTT-3.1.2-1'));
  test('will topic with a wildcard', () =>
    rejects(connect(4, 0x06, [str('w/#'), str('x')]), 4, 0x90));
  test('[MQTT-3.2.2-1] CONNACK reserved flags set', () =>
    rejects(pkt(0x20, [0x02, 0]), 4, MALFORMED, 'MQTT-3.2.2-1'));
});

describe('after an error', () => {
  test('later feeds do nothing and nothing stays buffered', () => {
    let count = 0;
    const decoder = new Decoder({ onPacket: () => count++ });
    assert.throws(() => decoder.feed(Buffer.from([0xc1, 0])), ProtocolError);
    decoder.feed(Buffer.from([0xc0, 0, 0xd0]));
    assert.equal(count, 0);
    assert.equal(decoder.bufferedBytes, 0);
  });
});
