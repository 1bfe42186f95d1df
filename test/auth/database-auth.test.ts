import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { createDatabaseAuth } from '../../src/auth/database-auth.js';
import { HashLimiter } from '../../src/auth/hash-limiter.js';
import { MysqlAuthBackend } from '../../src/auth/mysql-backend.js';
import { makePbkdf2Hash } from '../../src/auth/pbkdf2-hash.js';
import { pluginAuthSettings } from '../../src/auth/plugin-options.js';
import { BrokerStats } from '../../src/broker/stats.js';
import { type MariaDb, startMariaDb } from '../helpers/mariadb.js';
import { freePort } from '../helpers/process.js';
import {
  client,
  collect,
  connect,
  mosquittoPub,
  settle,
  startHeron,
  subscribe,
} from './heron-process.js';
import { scratchDir } from './mosquitto-helpers.js';

const T = { timeout: 30_000 };

let db: MariaDb;
let dir: string;
let cleanup: () => Promise<void>;

/** The README example of jpmens' auth-plug tutorials, as Heron's users copy it. */
function authPlugConfig(port: number): string[] {
  return [
    'auth_plugin /usr/lib/mosquitto/auth-plug.so',
    'auth_opt_backends mysql',
    'auth_opt_host 127.0.0.1',
    `auth_opt_port ${db.port}`,
    'auth_opt_dbname mqtt',
    'auth_opt_user mqtt',
    'auth_opt_pass secret',
    "auth_opt_userquery SELECT pw FROM users WHERE username = '%s'",
    "auth_opt_superquery SELECT COUNT(*) FROM users WHERE username = '%s' AND super = 1",
    "auth_opt_aclquery SELECT topic FROM acls WHERE (username = '%s') AND (rw >= %d)",
    'auth_opt_acl_cacheseconds 1',
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
  ];
}

/** The same database through mosquitto-go-auth's option names, `?` placeholders and hasher. */
function goAuthConfig(port: number): string[] {
  return [
    'auth_plugin /usr/lib/mosquitto/go-auth.so',
    'auth_opt_backends mysql',
    'auth_opt_hasher pbkdf2',
    'auth_opt_mysql_host 127.0.0.1',
    `auth_opt_mysql_port ${db.port}`,
    'auth_opt_mysql_dbname mqtt',
    'auth_opt_mysql_user mqtt',
    'auth_opt_mysql_password secret',
    'auth_opt_mysql_userquery SELECT hash FROM gousers WHERE username = ? limit 1',
    'auth_opt_mysql_superquery SELECT COUNT(*) FROM gousers WHERE username = ? AND is_admin = 1',
    'auth_opt_mysql_aclquery SELECT topic FROM goacls WHERE (username = ?) AND rw >= ?',
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
  ];
}

before(async () => {
  ({ dir, cleanup } = await scratchDir());
  db = await startMariaDb();
  const alice = await makePbkdf2Hash('alice-pw');
  const admin = await makePbkdf2Hash('admin-pw', { iterations: 1000 });
  const bob = await makePbkdf2Hash('bob-pw', {
    digest: 'sha512',
    iterations: 1000,
    keyLength: 64,
    saltEncoding: 'base64',
  });
  await db.sql(`
    CREATE DATABASE mqtt;
    CREATE USER 'mqtt'@'127.0.0.1' IDENTIFIED BY 'secret';
    GRANT SELECT ON mqtt.* TO 'mqtt'@'127.0.0.1';
    USE mqtt;
    CREATE TABLE users (username VARCHAR(64) PRIMARY KEY, pw VARCHAR(255), super INT NOT NULL DEFAULT 0);
    CREATE TABLE acls (username VARCHAR(64), topic VARCHAR(255), rw INT);
    INSERT INTO users VALUES ('alice', '${alice}', 0), ('admin', '${admin}', 1),
      ('jjolie', 'PBKDF2$sha256$901$j24KtOVCjYfsqfjL$bUIeZ0n39NuQ3MU+Y3pofaSsTRNlfang', 0);
    INSERT INTO acls VALUES ('alice', 'sensors/#', 1), ('alice', 'alice/%c/out', 2);
    CREATE TABLE gousers (username VARCHAR(64) PRIMARY KEY, hash VARCHAR(255), is_admin INT NOT NULL DEFAULT 0);
    CREATE TABLE goacls (username VARCHAR(64), topic VARCHAR(255), rw INT);
    INSERT INTO gousers VALUES ('bob', '${bob}', 0), ('root', '${bob}', 1),
      ('test1', 'PBKDF2$sha512$100000$2WQHK5rjNN+oOT+TZAsWAw==$TDf4Y6J+9BdnjucFQ0ZUWlTwzncTjOOeE00W4Qm8lfPQyPCZACCjgfdK353jdGFwJjAf6vPAYaba9+z4GWK7Gg==', 0),
      ('carol', '${bcrypt.hashSync('carol-pw', 4)}', 0);
    INSERT INTO goacls VALUES ('bob', 'sensors/#', 1), ('bob', 'devices/#', 4);
  `);
});

after(async () => {
  await db?.close();
  await cleanup?.();
});

describe('auth-plug style configuration (auth_opt_host, %s templates)', () => {
  let port: number;
  let heron: Awaited<ReturnType<typeof startHeron>>;
  before(async () => {
    port = await freePort();
    heron = await startHeron(dir, authPlugConfig(port), port, 'authplug');
  });
  after(() => heron.stop());

  test('logs that the built-in backend stands in for the .so', () => {
    assert.match(heron.output(), /auth-plug\.so is not loaded: Heron's built-in mysql backend/);
  });

  test(
    'right password connects, wrong password and unknown user are refused (v3 5)',
    T,
    async () => {
      const ok = await client(port, 'alice', 'alice-pw');
      await ok.endAsync();
      assert.equal(await connect(port, 'alice', 'wrong'), 5);
      assert.equal(await connect(port, 'mallory', 'alice-pw'), 5);
      assert.equal(await connect(port, 'alice', undefined), 5);
    },
  );

  test("a hash made by auth-plug's own tools verifies (raw salt, sha256)", T, async () => {
    const c = await client(port, 'jjolie', 'password');
    await c.endAsync();
  });

  test('user names carrying SQL are values, never SQL', T, async () => {
    const known = await makePbkdf2Hash('pw');
    // Spliced into the query text, this would answer the attacker's own hash.
    assert.equal(await connect(port, `nobody' UNION SELECT '${known}' -- `, 'pw'), 5);
    assert.equal(await connect(port, "x' OR '1'='1", 'alice-pw'), 5);
    assert.equal(await connect(port, "alice' -- ", 'alice-pw'), 5);
  });

  test(
    'mosquitto_pub with the database credentials publishes; with a wrong one it fails',
    T,
    async () => {
      const run = (pw: string) =>
        mosquittoPub(port, ['-u', 'alice', '-P', pw, '-t', 'alice/x/out', '-m', 'hi']);
      assert.equal(await run('alice-pw'), 0);
      assert.notEqual(await run('nope'), 0);
    },
  );

  test(
    'ACL rows: read filters subscriptions and deliveries, write filters publishes',
    T,
    async () => {
      const admin = await client(port, 'admin', 'admin-pw');
      const alice = await client(port, 'alice', 'alice-pw', 'dev1');
      const got = collect(alice);
      assert.equal(await subscribe(alice, 'sensors/#'), 0);
      assert.equal(await subscribe(alice, '#'), 128, 'a filter wider than the rows is refused');
      assert.equal(await subscribe(alice, 'secret/#'), 128);
      const adminGot = collect(admin);
      await subscribe(admin, '#');
      await admin.publishAsync('sensors/t1', 'a', { qos: 1 });
      await admin.publishAsync('secret/t1', 'b', { qos: 1 });
      await alice.publishAsync('alice/dev1/out', 'mine', { qos: 1 });
      await alice.publishAsync('alice/dev2/out', 'not mine', { qos: 1 });
      await alice.publishAsync('sensors/t2', 'read only', { qos: 1 });
      await settle(admin);
      await settle(alice);
      assert.deepEqual(got, ['sensors/t1']);
      assert.ok(adminGot.includes('alice/dev1/out'), '%c was substituted with the client id');
      assert.ok(!adminGot.includes('alice/dev2/out'));
      assert.ok(!adminGot.includes('sensors/t2'), 'rw 1 rows do not allow publishing');
      assert.ok(adminGot.includes('secret/t1'), 'the superuser bypasses the ACL');
      await Promise.all([admin.endAsync(), alice.endAsync()]);
    },
  );

  test(
    'a client id with + or # gets no topic at all, superuser or not (auth_plugin_deny_special_chars)',
    T,
    async () => {
      const alice = await client(port, 'alice', 'alice-pw', 'dev+');
      assert.equal(await subscribe(alice, 'sensors/#'), 128);
      const admin = await client(port, 'admin', 'admin-pw', 'adm#');
      assert.equal(await subscribe(admin, 'sensors/#'), 128);
      await Promise.all([alice.endAsync(), admin.endAsync()]);
    },
  );

  test(
    'a will needs write access: allowed wills connect, others are refused (v3 5)',
    T,
    async () => {
      const will = (topic: string) => ({
        will: { topic, payload: Buffer.from('bye'), qos: 0 as const, retain: false },
      });
      assert.equal(
        await connect(port, 'alice', 'alice-pw', { clientId: 'w1', ...will('secret/w') }),
        5,
      );
      const admin = await client(port, 'admin', 'admin-pw');
      const c = await connect(port, 'alice', 'alice-pw', {
        clientId: 'w1',
        ...will('alice/w1/out'),
      });
      assert.ok(typeof c !== 'number');
      const got = collect(c);
      assert.equal(await subscribe(c, 'sensors/#'), 0);
      await admin.publishAsync('sensors/w', 'x', { qos: 1 });
      await settle(c);
      assert.deepEqual(got, ['sensors/w']);
      await Promise.all([admin.endAsync(), c.endAsync()]);
    },
  );

  test('ACL changes in the database apply after acl_cacheseconds', T, async () => {
    const admin = await client(port, 'admin', 'admin-pw');
    const alice = await client(port, 'alice', 'alice-pw');
    const got = collect(alice);
    await subscribe(alice, 'sensors/#');
    await db.sql("UPDATE mqtt.acls SET topic = 'sensors/allowed/#' WHERE topic = 'sensors/#'");
    try {
      await new Promise((r) => setTimeout(r, 1100));
      await admin.publishAsync('sensors/x', '1', { qos: 1 }); // triggers the background refresh
      await new Promise((r) => setTimeout(r, 300));
      await admin.publishAsync('sensors/y', '2', { qos: 1 });
      await admin.publishAsync('sensors/allowed/z', '3', { qos: 1 });
      await settle(alice);
      assert.ok(!got.includes('sensors/y'));
      assert.ok(got.includes('sensors/allowed/z'));
    } finally {
      await db.sql("UPDATE mqtt.acls SET topic = 'sensors/#' WHERE topic = 'sensors/allowed/#'");
      await Promise.all([admin.endAsync(), alice.endAsync()]);
    }
  });

  test(
    'database down: CONNACK server unavailable (v3 3, v5 0x88), others keep working, then recovery',
    T,
    async () => {
      const admin = await client(port, 'admin', 'admin-pw');
      const got = collect(admin);
      await subscribe(admin, 'live/#');
      await db.stop();
      try {
        assert.equal(await connect(port, 'alice', 'alice-pw'), 3);
        assert.equal(await connect(port, 'alice', 'alice-pw', { protocolVersion: 5 }), 0x88);
        await admin.publishAsync('live/1', 'still here', { qos: 1 });
        await settle(admin);
        assert.deepEqual(got, ['live/1']);
        assert.equal(heron.child.exitCode, null);
        assert.match(heron.output(), /database authentication: user lookup failed/);
      } finally {
        await db.start();
      }
      const alice = await client(port, 'alice', 'alice-pw');
      await Promise.all([admin.endAsync(), alice.endAsync()]);
    },
  );
});

describe('go-auth style configuration (auth_opt_mysql_*, ? placeholders)', () => {
  let port: number;
  let heron: Awaited<ReturnType<typeof startHeron>>;
  before(async () => {
    port = await freePort();
    heron = await startHeron(dir, goAuthConfig(port), port, 'goauth');
  });
  after(() => heron.stop());

  test(
    "go-auth's pbkdf2 hashes (base64 salt, sha512) verify; wrong passwords do not",
    T,
    async () => {
      const bob = await client(port, 'bob', 'bob-pw');
      await bob.endAsync();
      const t1 = await client(port, 'test1', 'test1');
      await t1.endAsync();
      assert.equal(await connect(port, 'bob', 'test1'), 5);
      assert.equal(await connect(port, "bob' -- ", 'bob-pw'), 5);
    },
  );

  test('subscribe needs rows for access 4, reads need access 1', T, async () => {
    const root = await client(port, 'root', 'bob-pw');
    const bob = await client(port, 'bob', 'bob-pw');
    const got = collect(bob);
    assert.equal(await subscribe(bob, 'sensors/#'), 128, 'rw 1 rows do not grant subscribe (4)');
    assert.equal(await subscribe(bob, 'devices/#'), 0);
    await root.publishAsync('devices/a', '1', { qos: 1 });
    await bob.publishAsync('devices/b', '2', { qos: 1 }); // rw 4 >= 2: write allowed
    await settle(bob);
    assert.deepEqual(got.sort(), ['devices/a', 'devices/b']);
    await Promise.all([root.endAsync(), bob.endAsync()]);
  });
});

test('go-auth with auth_opt_hasher bcrypt verifies bcrypt hashes', T, async () => {
  const settings = pluginAuthSettings([
    {
      path: '/usr/lib/mosquitto/go-auth.so',
      denySpecialChars: true,
      source: { file: 'm.conf', line: 1 },
      options: {
        backends: 'mysql',
        hasher: 'bcrypt',
        mysql_host: '127.0.0.1',
        mysql_port: String(db.port),
        mysql_dbname: 'mqtt',
        mysql_user: 'mqtt',
        mysql_password: 'secret',
        mysql_userquery: 'SELECT hash FROM gousers WHERE username = ? limit 1',
      },
    },
  ]);
  assert.ok(settings?.backend === 'mysql');
  const auth = createDatabaseAuth(settings, new MysqlAuthBackend(settings));
  try {
    const req = (password: string) => ({
      clientId: 'c',
      username: 'carol',
      password: Buffer.from(password),
      properties: undefined,
      protocolVersion: 4 as const,
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      listener: 'test',
    });
    assert.equal(await auth.hooks.authenticate!(req('carol-pw')), true);
    assert.equal(await auth.hooks.authenticate!(req('wrong')), 0x87);
  } finally {
    await auth.close();
  }
});

test(
  'a database that stops answering refuses CONNECTs with "server unavailable" in time, then recovers',
  T,
  async () => {
    const settings = pluginAuthSettings([
      {
        path: '/usr/lib/mosquitto/auth-plug.so',
        denySpecialChars: true,
        source: { file: 'm.conf', line: 1 },
        options: {
          backends: 'mysql',
          host: '127.0.0.1',
          port: String(db.port),
          dbname: 'mqtt',
          user: 'mqtt',
          pass: 'secret',
          userquery: "SELECT pw FROM users WHERE username = '%s'",
        },
      },
    ]);
    assert.ok(settings?.backend === 'mysql');
    const auth = createDatabaseAuth(settings, new MysqlAuthBackend(settings, 1000));
    const req = (n: number) => ({
      clientId: `c${n}`,
      username: 'jjolie',
      password: Buffer.from('password'),
      properties: undefined,
      protocolVersion: 4 as const,
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      listener: 'test',
    });
    try {
      assert.equal(await auth.hooks.authenticate!(req(0)), true); // the pool holds live connections
      // The CLI counts into the broker's stats (metrics heron_auth_backend_*_total, admin API).
      const brokerStats = new BrokerStats();
      auth.countInto(brokerStats);
      db.pause();
      const t = Date.now();
      // More lookups than pooled connections: the queued ones are bounded by the same deadline.
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => auth.hooks.authenticate!(req(i + 1))),
      );
      assert.deepEqual(new Set(answers), new Set([0x88]));
      assert.ok(Date.now() - t < 4000, `answered after ${Date.now() - t} ms`);
      assert.equal(auth.stats.unavailable, 12);
      assert.equal(brokerStats.authBackendUnavailable, 12);
      assert.ok(brokerStats.authBackendErrors >= 12, `${brokerStats.authBackendErrors} errors`);
      db.resume();
      assert.equal(await auth.hooks.authenticate!(req(20)), true);
    } finally {
      db.resume();
      await auth.close();
    }
  },
);

test(
  'a storm of wrong passwords for a real user keeps at most two hash checks running; answers stay right',
  T,
  async () => {
    const settings = pluginAuthSettings([
      {
        path: '/usr/lib/mosquitto/go-auth.so',
        denySpecialChars: true,
        source: { file: 'm.conf', line: 1 },
        options: {
          backends: 'mysql',
          hasher: 'pbkdf2',
          mysql_host: '127.0.0.1',
          mysql_port: String(db.port),
          mysql_dbname: 'mqtt',
          mysql_user: 'mqtt',
          mysql_password: 'secret',
          mysql_userquery: 'SELECT hash FROM gousers WHERE username = ? limit 1',
        },
      },
    ]);
    assert.ok(settings?.backend === 'mysql');
    const limiter = new HashLimiter(2, 64);
    const auth = createDatabaseAuth(settings, new MysqlAuthBackend(settings), undefined, limiter);
    const req = (n: number, password: string) => ({
      clientId: `c${n}`,
      username: 'test1', // 100,000 iterations of sha512: each check takes a while
      password: Buffer.from(password),
      properties: undefined,
      protocolVersion: 4 as const,
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      listener: 'test',
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          auth.hooks.authenticate!(req(i, i === 5 ? 'test1' : 'wrong')),
        ),
      );
      assert.deepEqual(
        answers,
        Array.from({ length: 12 }, (_, i) => (i === 5 ? true : 0x87)),
      );
      assert.ok(limiter.peak >= 1 && limiter.peak <= 2, `${limiter.peak} checks ran at once`);
      assert.equal(limiter.active, 0);
    } finally {
      await auth.close();
    }
  },
);

test(
  'LIKE templates: a user name `%` or `_` is a name, not a pattern matching another user',
  T,
  async () => {
    const dave = await makePbkdf2Hash('dave-pw');
    await db.sql(`
      USE mqtt;
      CREATE TABLE likeusers (username VARCHAR(64) PRIMARY KEY, pw VARCHAR(255));
      INSERT INTO likeusers VALUES ('dave', '${dave}');
    `);
    const settingsFor = (options: Record<string, string>, path: string) => {
      const s = pluginAuthSettings([
        { path, denySpecialChars: true, source: { file: 'm.conf', line: 1 }, options },
      ]);
      assert.ok(s?.backend === 'mysql');
      return s;
    };
    const authPlug = (userquery: string) =>
      settingsFor(
        {
          backends: 'mysql',
          host: '127.0.0.1',
          port: String(db.port),
          dbname: 'mqtt',
          user: 'mqtt',
          pass: 'secret',
          userquery,
        },
        '/usr/lib/mosquitto/auth-plug.so',
      );
    const goAuth = (userquery: string) =>
      settingsFor(
        {
          backends: 'mysql',
          hasher: 'pbkdf2',
          hasher_salt_encoding: 'utf-8',
          mysql_host: '127.0.0.1',
          mysql_port: String(db.port),
          mysql_dbname: 'mqtt',
          mysql_user: 'mqtt',
          mysql_password: 'secret',
          mysql_userquery: userquery,
        },
        '/usr/lib/mosquitto/go-auth.so',
      );
    const req = (username: string, password: string) => ({
      clientId: 'c',
      username,
      password: Buffer.from(password),
      properties: undefined,
      protocolVersion: 4 as const,
      remoteAddress: '127.0.0.1',
      remotePort: 1,
      listener: 'test',
    });
    for (const settings of [
      authPlug("SELECT pw FROM likeusers WHERE username LIKE '%s'"),
      authPlug("SELECT pw FROM likeusers WHERE username LIKE CONCAT('%s', '')"),
      goAuth('SELECT pw FROM likeusers WHERE username LIKE ? limit 1'),
    ]) {
      const auth = createDatabaseAuth(settings, new MysqlAuthBackend(settings));
      try {
        const q = settings.userQuery.sql;
        assert.equal(await auth.hooks.authenticate!(req('dave', 'dave-pw')), true, q);
        for (const name of ['%', 'd%', '_ave', 'da_e'])
          assert.equal(await auth.hooks.authenticate!(req(name, 'dave-pw')), 0x87, `${name}: ${q}`);
      } finally {
        await auth.close();
      }
    }
  },
);
