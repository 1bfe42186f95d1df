// Broker-level chaos over real sockets: hostile clients of every kind attack an
// in-memory broker (TCP, WebSocket and TLS listeners) while witness clients
// exchange QoS 0/1/2 messages; see support/run.ts for what is asserted.
import { after, before, test } from 'node:test';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { runChaos } from './support/run.js';

let certs: TestCerts;
before(async () => {
  certs = await makeTestCerts();
});
after(() => certs.cleanup());

test('chaos: every kind of bad input at once loses nothing else', { timeout: 30_000 }, async () => {
  await runChaos({
    seed: Number(process.env.CHAOS_SEED ?? 0xc4a05),
    durationMs: 5000,
    scenarios: [
      'garbage',
      'violations',
      'abrupt',
      'handshakes',
      'takeover',
      'churn',
      'slow',
      'halfOpen',
    ],
    broker: {
      listeners: [
        { port: 0, host: '127.0.0.1' },
        { port: 0, host: '127.0.0.1', protocol: 'websockets' },
        { port: 0, host: '127.0.0.1', tls: { cert: certs.serverCert, key: certs.serverKey } },
      ],
    },
    extraPorts: (tb) => {
      const [, ws, tls] = tb.broker.addresses();
      return { wsPort: ws!.port, tlsPort: tls!.port };
    },
  });
});
