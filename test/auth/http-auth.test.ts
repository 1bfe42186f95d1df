import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHttpAuth, MAX_BACKGROUND_READS } from '../../src/auth/http-auth.js';
import { HttpAuthBackend, HttpAuthServiceError } from '../../src/auth/http-auth-backend.js';
import type { HttpAuthSettings } from '../../src/auth/plugin-options.js';
import { topicMatches } from '../../src/protocol/topic.js';
import { freePort, waitFor } from '../helpers/process.js';
import {
  client,
  collect,
  connect,
  type HeronProcess,
  mosquittoPub,
  settle,
  startHeron,
  subscribe,
} from './heron-process.js';
import { scratchDir } from './mosquitto-helpers.js';

const T = { timeout: 30_000 };

/** One request the service received, fields decoded from JSON or the form. */
interface Seen {
  method: string;
  path: string;
  contentType: string;
  fields: Record<string, unknown>;
}

const USERS: Record<string, string> = { alice: 'alice-pw', admin: 'admin-pw' };

/**
 * The access rules of the users' own web service, the way people write them:
 * alice may subscribe to `sensors/#` (and to `#`, which the service treats
 * as "anything"), read `sensors/...` except `sensors/hidden`, and publish to
 * `alice/<her client id>/out`. A topic given with wildcards matches a rule
 * only when the rule covers it literally.
 */
function allowed(user: string, clientid: string, topic: string, acc: number): boolean {
  if (user !== 'alice') return false;
  if (acc === 4) return topic === '#' || topicMatches('sensors/#', topic);
  if (acc === 1) return topicMatches('sensors/#', topic) && topic !== 'sensors/hidden';
  if (acc === 2) return topic === `alice/${clientid}/out`;
  return false;
}

/** A go-auth HTTP service answering in one response mode; `hang` users never get an answer. */
class AuthService {
  readonly seen: Seen[] = [];
  private server: http.Server;
  port = 0;

  constructor(readonly mode: 'status' | 'json' | 'text') {
    this.server = this.create();
  }

  private create(): http.Server {
    return http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const contentType = req.headers['content-type'] ?? '';
        const fields: Record<string, unknown> = contentType.includes('json')
          ? JSON.parse(body)
          : Object.fromEntries(new URLSearchParams(body));
        this.seen.push({ method: req.method!, path: req.url!, contentType, fields });
        const user = String(fields.username);
        if (user === 'slow') return; // never answered: the broker's timeout must act
        let ok = false;
        if (req.url === '/auth') ok = USERS[user] !== undefined && USERS[user] === fields.password;
        else if (req.url === '/superuser') ok = user === 'admin';
        else if (req.url === '/acl')
          ok = allowed(user, String(fields.clientid), String(fields.topic), Number(fields.acc));
        this.answer(res, ok);
      });
    });
  }

  private answer(res: http.ServerResponse, ok: boolean): void {
    if (this.mode === 'status') {
      res.writeHead(ok ? 200 : 403).end();
    } else if (this.mode === 'json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok, error: ok ? '' : 'not allowed' }));
    } else {
      res.end(ok ? 'ok' : 'not allowed');
    }
  }

  async listen(): Promise<void> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops answering (and drops kept-alive connections), as a crashed service would. */
  async stop(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
    this.server = this.create();
  }

  /** ACL questions asked so far, as `acc topic` strings. */
  aclAsked(user: string): string[] {
    return this.seen
      .filter((s) => s.path === '/acl' && s.fields.username === user)
      .map((s) => `${s.fields.acc} ${s.fields.topic}`);
  }
}

function goAuthHttpConfig(
  service: AuthService,
  port: number,
  params: 'json' | 'form',
  extra: string[] = [],
): string[] {
  return [
    'auth_plugin /mosquitto/go-auth.so',
    'auth_opt_backends http',
    'auth_opt_http_host 127.0.0.1',
    `auth_opt_http_port ${service.port}`,
    'auth_opt_http_getuser_uri /auth',
    'auth_opt_http_superuser_uri /superuser',
    'auth_opt_http_aclcheck_uri /acl',
    'auth_opt_http_with_tls false',
    `auth_opt_http_params_mode ${params}`,
    `auth_opt_http_response_mode ${service.mode}`,
    'auth_opt_http_timeout 1',
    ...extra,
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
  ];
}

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await scratchDir());
});
after(() => cleanup?.());

describe('params json, response status', () => {
  const service = new AuthService('status');
  let port: number;
  let heron: HeronProcess;
  before(async () => {
    await service.listen();
    port = await freePort();
    heron = await startHeron(dir, goAuthHttpConfig(service, port, 'json'), port, 'http-json');
  });
  after(async () => {
    await heron.stop();
    await service.stop();
  });

  test('logs that the built-in http backend stands in for go-auth.so', () => {
    assert.match(heron.output(), /go-auth\.so is not loaded: Heron's built-in http backend/);
  });

  test(
    'right password connects; wrong or unknown ones are refused (v3 5, v5 0x87)',
    T,
    async () => {
      const ok = await client(port, 'alice', 'alice-pw', 'dev1');
      await ok.endAsync();
      assert.equal(await connect(port, 'alice', 'wrong'), 5);
      assert.equal(await connect(port, 'mallory', 'alice-pw'), 5);
      assert.equal(await connect(port, 'alice', 'wrong', { protocolVersion: 5 }), 0x87);
      const asked = service.seen.find((s) => s.path === '/auth' && s.fields.clientid === 'dev1');
      assert.deepEqual(asked, {
        method: 'POST',
        path: '/auth',
        contentType: 'application/json',
        fields: { username: 'alice', password: 'alice-pw', clientid: 'dev1' },
      });
    },
  );

  test(
    'mosquitto_pub with the service credentials publishes; a wrong password fails',
    T,
    async () => {
      const pub = (pw: string) =>
        mosquittoPub(port, [
          '-u',
          'alice',
          '-P',
          pw,
          '-i',
          'dev9',
          '-t',
          'alice/dev9/out',
          '-m',
          'hi',
        ]);
      assert.equal(await pub('alice-pw'), 0);
      assert.notEqual(await pub('nope'), 0);
    },
  );

  test(
    'a client id with + or # is denied every topic without asking (auth_plugin_deny_special_chars)',
    T,
    async () => {
      // A service building topics from the client id would hand this client the whole tree.
      const alice = await client(port, 'alice', 'alice-pw', 'dev+');
      assert.equal(await subscribe(alice, 'sensors/#'), 128);
      const admin = await client(port, 'admin', 'admin-pw', 'adm#');
      assert.equal(await subscribe(admin, 'sensors/#'), 128, 'superusers too, as in Mosquitto');
      assert.deepEqual(
        service.seen.filter((s) => s.path === '/acl' && /[+#]/.test(String(s.fields.clientid))),
        [],
      );
      await Promise.all([alice.endAsync(), admin.endAsync()]);
    },
  );

  test('the superuser is asked once and then bypasses ACL questions', T, async () => {
    const admin = await client(port, 'admin', 'admin-pw');
    const got = collect(admin);
    assert.equal(await subscribe(admin, '#'), 0);
    await admin.publishAsync('anything/at/all', 'x', { qos: 1 });
    await settle(admin);
    assert.ok(got.includes('anything/at/all'));
    assert.deepEqual(service.aclAsked('admin'), []);
    await admin.endAsync();
  });

  test('publish asks acc 2 with the client id; refused publishes reach nobody', T, async () => {
    const admin = await client(port, 'admin', 'admin-pw');
    const seen = collect(admin);
    await subscribe(admin, 'alice/#');
    const alice = await client(port, 'alice', 'alice-pw', 'dev1');
    await alice.publishAsync('alice/dev1/out', 'mine', { qos: 1 });
    await alice.publishAsync('alice/dev2/out', 'not mine', { qos: 1 });
    await alice.publishAsync('alice/dev1/out', 'again', { qos: 1 });
    await settle(admin);
    assert.deepEqual(seen, ['alice/dev1/out', 'alice/dev1/out']);
    const asked = service.aclAsked('alice').filter((a) => a === '2 alice/dev1/out');
    assert.equal(asked.length, 1, 'an answer is reused for acl_cache_seconds');
    const q = service.seen.find((s) => s.path === '/acl' && s.fields.topic === 'alice/dev2/out');
    assert.deepEqual(q?.fields, {
      username: 'alice',
      clientid: 'dev1',
      topic: 'alice/dev2/out',
      acc: 2,
    });
    await Promise.all([admin.endAsync(), alice.endAsync()]);
  });

  test('subscribe asks acc 4 per filter: refused filters get SUBACK 0x80', T, async () => {
    const alice = await client(port, 'alice', 'alice-pw', 'dev2');
    assert.equal(await subscribe(alice, 'sensors/#'), 0);
    assert.equal(await subscribe(alice, 'secret/#'), 128);
    assert.ok(service.aclAsked('alice').includes('4 secret/#'));
    await alice.endAsync();
  });

  test(
    'reads: the filter answer judges retained and first messages, then each topic its own answer',
    T,
    async () => {
      const admin = await client(port, 'admin', 'admin-pw');
      await admin.publishAsync('sensors/retained', 'r', { qos: 1, retain: true });
      const alice = await client(port, 'alice', 'alice-pw', 'reader');
      const got = collect(alice);
      // acc 1 for `sensors/#` itself is allowed: the retained message arrives at once.
      assert.equal(await subscribe(alice, 'sensors/#'), 0);
      // An exact filter's read answer is asked at SUBSCRIBE: not even a first message slips through.
      assert.equal(await subscribe(alice, 'sensors/hidden'), 0);
      await admin.publishAsync('sensors/hidden', 'h', { qos: 1 });
      await admin.publishAsync('sensors/live', 'l', { qos: 1 });
      await settle(alice);
      assert.ok(got.includes('sensors/retained'));
      assert.ok(got.includes('sensors/live'));
      assert.ok(!got.includes('sensors/hidden'));
      await waitFor(() => service.aclAsked('alice').includes('1 sensors/live'));
      await admin.publishAsync('sensors/retained', '', { qos: 1, retain: true });
      await Promise.all([admin.endAsync(), alice.endAsync()]);
    },
  );

  test(
    'reads under `#`: topics the service refuses are never delivered, allowed ones once answered',
    T,
    async () => {
      const admin = await client(port, 'admin', 'admin-pw');
      const alice = await client(port, 'alice', 'alice-pw', 'everything');
      const got = collect(alice);
      // The service lets alice subscribe to `#` but refuses to let her read `#` as a whole.
      assert.equal(await subscribe(alice, '#'), 0);
      await admin.publishAsync('secret/x', '1', { qos: 1 });
      await admin.publishAsync('sensors/fresh', '1', { qos: 1 });
      await waitFor(() => service.aclAsked('alice').includes('1 sensors/fresh'));
      await admin.publishAsync('secret/x', '2', { qos: 1 });
      await admin.publishAsync('sensors/fresh', '2', { qos: 1 });
      await settle(alice);
      assert.ok(!got.includes('secret/x'));
      assert.ok(got.includes('sensors/fresh'));
      await Promise.all([admin.endAsync(), alice.endAsync()]);
    },
  );

  test(
    'a service that does not answer in http_timeout refuses with server unavailable',
    T,
    async () => {
      assert.equal(await connect(port, 'slow', 'pw'), 3);
      assert.match(heron.output(), /http authentication: user check failed: \/auth timed out/);
    },
  );

  test(
    'service down: CONNACK server unavailable (v3 3, v5 0x88), others keep working, then recovery',
    T,
    async () => {
      const admin = await client(port, 'admin', 'admin-pw');
      const got = collect(admin);
      await subscribe(admin, 'live/#');
      await service.stop();
      try {
        assert.equal(await connect(port, 'alice', 'alice-pw'), 3);
        assert.equal(await connect(port, 'alice', 'alice-pw', { protocolVersion: 5 }), 0x88);
        await admin.publishAsync('live/1', 'still here', { qos: 1 });
        await settle(admin);
        assert.deepEqual(got, ['live/1']);
        assert.equal(heron.child.exitCode, null);
      } finally {
        await service.listen();
      }
      const alice = await client(port, 'alice', 'alice-pw');
      await Promise.all([admin.endAsync(), alice.endAsync()]);
    },
  );
});

describe('params form with json and text responses', () => {
  const formJson = new AuthService('json');
  const jsonText = new AuthService('text');
  let p1: number;
  let p2: number;
  let h1: HeronProcess;
  let h2: HeronProcess;
  before(async () => {
    await Promise.all([formJson.listen(), jsonText.listen()]);
    [p1, p2] = [await freePort(), await freePort()];
    [h1, h2] = await Promise.all([
      startHeron(dir, goAuthHttpConfig(formJson, p1, 'form'), p1, 'http-form'),
      startHeron(
        dir,
        goAuthHttpConfig(jsonText, p2, 'json', ['auth_opt_http_method GET']),
        p2,
        'http-text',
      ),
    ]);
  });
  after(async () => {
    await Promise.all([h1.stop(), h2.stop()]);
    await Promise.all([formJson.stop(), jsonText.stop()]);
  });

  test('form params and {"ok":...} answers: passwords and publishes are judged', T, async () => {
    assert.equal(await connect(p1, 'alice', 'wrong'), 5);
    const admin = await client(p1, 'admin', 'admin-pw');
    const seen = collect(admin);
    await subscribe(admin, 'alice/#');
    const alice = await client(p1, 'alice', 'alice-pw', 'f1');
    await alice.publishAsync('alice/f1/out', 'a', { qos: 1 });
    await alice.publishAsync('alice/f2/out', 'b', { qos: 1 });
    await settle(admin);
    assert.deepEqual(seen, ['alice/f1/out']);
    const auth = formJson.seen.find((s) => s.path === '/auth' && s.fields.clientid === 'f1');
    assert.equal(auth?.contentType, 'application/x-www-form-urlencoded');
    assert.equal(auth?.method, 'POST');
    assert.deepEqual(auth?.fields, { username: 'alice', password: 'alice-pw', clientid: 'f1' });
    const acl = formJson.seen.find((s) => s.fields.topic === 'alice/f2/out');
    assert.deepEqual(acl?.fields, {
      username: 'alice',
      clientid: 'f1',
      topic: 'alice/f2/out',
      acc: '2',
    });
    await Promise.all([admin.endAsync(), alice.endAsync()]);
  });

  test('text answers ("ok" allows) with http_method GET', T, async () => {
    assert.equal(await connect(p2, 'alice', 'wrong'), 5);
    const alice = await client(p2, 'alice', 'alice-pw', 't1');
    assert.equal(await subscribe(alice, 'sensors/#'), 0);
    assert.equal(await subscribe(alice, 'secret/#'), 128);
    assert.ok(jsonText.seen.every((s) => s.method === 'GET'));
    await alice.endAsync();
  });
});

test(
  'answers that are no answer: 5xx and broken JSON reject, retry_count asks again',
  T,
  async () => {
    const replies = [
      [503, ''],
      [200, '{"ok":true}'],
      [200, 'not json'],
      [404, '{"ok":true}'],
    ] as const;
    let n = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      const [status, body] = replies[n++ % replies.length]!;
      res.writeHead(status).end(body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const settings: HttpAuthSettings = {
      backend: 'http',
      flavour: 'go-auth',
      pluginPath: 'go-auth.so',
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      tls: false,
      denySpecialChars: true,
      verifyPeer: false,
      method: 'POST',
      userUri: '/auth',
      superuserUri: undefined,
      aclUri: '/acl',
      paramsMode: 'json',
      responseMode: 'json',
      timeoutSeconds: 1,
      userAgent: 'mosquitto',
      retryCount: 0,
      aclCacheSeconds: 30,
    };
    const once0 = new HttpAuthBackend(settings);
    const retrying = new HttpAuthBackend({ ...settings, retryCount: 1 });
    try {
      await assert.rejects(
        once0.getUser('u', 'p', 'c'),
        (e) => e instanceof HttpAuthServiceError && e.status === 503,
      );
      assert.equal(await once0.getUser('u', 'p', 'c'), true);
      await assert.rejects(once0.getUser('u', 'p', 'c'), /no JSON/);
      assert.equal(await once0.getUser('u', 'p', 'c'), false, 'a 4xx refuses whatever the body');
      // 503 then {"ok":true}: one retry turns the outage into an answer.
      assert.equal(await retrying.getUser('u', 'p', 'c'), true);
      assert.equal(
        await once0.isSuperuser('u'),
        false,
        'no superuser URI: nobody is, nothing asked',
      );
      assert.equal(n, 6);
    } finally {
      once0.close();
      retrying.close();
      server.close();
      server.closeAllConnections();
    }
  },
);

test(
  'a service that streams an endless answer is cut off at 64 KiB, not read until the timeout',
  T,
  async () => {
    let streams = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      streams++;
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const backend = new HttpAuthBackend({
      backend: 'http',
      flavour: 'go-auth',
      pluginPath: 'go-auth.so',
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      tls: false,
      denySpecialChars: true,
      verifyPeer: false,
      method: 'POST',
      userUri: '/auth',
      superuserUri: undefined,
      aclUri: '/acl',
      paramsMode: 'json',
      responseMode: 'json',
      timeoutSeconds: 10,
      userAgent: 'mosquitto',
      retryCount: 0,
      aclCacheSeconds: 30,
    });
    try {
      const t = Date.now();
      await assert.rejects(
        backend.getUser('u', 'p', 'c'),
        (e) => e instanceof HttpAuthServiceError && /too large/.test(e.message),
      );
      assert.ok(Date.now() - t < 3000, `took ${Date.now() - t} ms`);
      assert.equal(streams, 1, 'an oversized answer is not retried as a stale socket');
    } finally {
      backend.close();
      server.close();
      server.closeAllConnections();
    }
  },
);

test('SIGHUP with changed auth_opt_* lines says they need a restart', T, async () => {
  const service = new AuthService('status');
  await service.listen();
  const port = await freePort();
  const heron = await startHeron(dir, goAuthHttpConfig(service, port, 'json'), port, 'http-hup');
  try {
    const lines = goAuthHttpConfig(service, port, 'json', ['auth_opt_acl_cache_seconds 5']);
    writeFileSync(join(dir, 'http-hup.conf'), `${lines.join('\n')}\n`);
    heron.child.kill('SIGHUP');
    await waitFor(() => /Configuration reloaded/.test(heron.output()));
    assert.match(heron.output(), /auth_opt_\* lines changed: .* until Heron is restarted/);
  } finally {
    await heron.stop();
    await service.stop();
  }
});

test(
  'wildcard subscribers meeting many new topics keep at most MAX_BACKGROUND_READS questions at the service',
  T,
  async () => {
    let inFlight = 0;
    let most = 0;
    const held: (() => void)[] = [];
    const readsAsked: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const f = JSON.parse(body) as Record<string, unknown>;
        const ok = req.url === '/auth' || (req.url === '/acl' && f.acc === 4);
        // Read questions about single topics are held until released, as a slow service would.
        if (req.url === '/acl' && f.acc === 1 && f.topic !== '#') {
          readsAsked.push(String(f.topic));
          inFlight++;
          most = Math.max(most, inFlight);
          held.push(() => {
            inFlight--;
            res.writeHead(String(f.topic).startsWith('ok/') ? 200 : 403).end();
          });
          return;
        }
        res.writeHead(ok ? 200 : 403).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const settings: HttpAuthSettings = {
      backend: 'http',
      flavour: 'go-auth',
      pluginPath: 'go-auth.so',
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      tls: false,
      denySpecialChars: true,
      verifyPeer: false,
      method: 'POST',
      userUri: '/auth',
      superuserUri: undefined,
      aclUri: '/acl',
      paramsMode: 'json',
      responseMode: 'status',
      timeoutSeconds: 10,
      userAgent: 'mosquitto',
      retryCount: 0,
      aclCacheSeconds: 30,
    };
    const auth = createHttpAuth(settings, new HttpAuthBackend(settings));
    const clients = ['w1', 'w2', 'w3'].map((clientId) => ({
      clientId,
      username: 'u',
      protocolVersion: 4 as const,
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      listener: 'test',
    }));
    const h = auth.hooks;
    try {
      for (const c of clients) {
        assert.equal(
          await h.authenticate!({ ...c, password: Buffer.from('pw'), properties: undefined }),
          true,
        );
        // Subscribing to `#` is allowed, reading `#` as a whole is not: new topics are withheld until answered.
        assert.equal(await h.authorizeSubscribe!(c, { topic: '#', qos: 0 } as never), true);
      }
      const topics = Array.from({ length: 60 }, (_, i) => `${i % 2 ? 'ok' : 'no'}/${i}`);
      // A busy broker: every client receives every topic, each a first delivery.
      for (const t of topics) for (const c of clients) assert.equal(h.authorizeRead!(c, t), false);
      await waitFor(() => readsAsked.length >= MAX_BACKGROUND_READS);
      await new Promise((r) => setTimeout(r, 100)); // room for any excess question to arrive
      assert.equal(most, MAX_BACKGROUND_READS);
      assert.equal(readsAsked.length, MAX_BACKGROUND_READS);
      // As answers come back, later deliveries ask the skipped questions, still within the cap.
      const deadline = Date.now() + 10_000;
      while (held.length > 0 && Date.now() < deadline) {
        for (const release of held.splice(0)) release();
        await new Promise((r) => setTimeout(r, 20));
        for (const t of topics) for (const c of clients) h.authorizeRead!(c, t);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(most <= MAX_BACKGROUND_READS, `${most} read questions at once`);
      assert.equal(readsAsked.length, topics.length * clients.length, 'each question asked once');
      for (const t of topics)
        for (const c of clients) assert.equal(h.authorizeRead!(c, t), t.startsWith('ok/'), t);
    } finally {
      for (const release of held) release();
      await auth.close();
      server.close();
      server.closeAllConnections();
    }
  },
);
