import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../../src/config/config-error.js';
import { compareIncludeNames } from '../../src/config/include-dir.js';
import { OPTIONS, PLUGIN_OPTION_PREFIXES } from '../../src/config/options.js';
import { loadConfigFile, parseConfigText } from '../../src/config/parse.js';

const tmp = mkdtempSync(join(tmpdir(), 'heron-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes files under a fresh directory of `tmp` and returns its path. */
function tree(name: string, files: Record<string, string>): string {
  const root = join(tmp, name);
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
  }
  return root;
}

/** Runs `fn` expecting a ConfigError and returns it. */
async function rejection(fn: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('loading files', () => {
  test('a missing configuration file is a ConfigError naming it', async () => {
    const e = await rejection(() => loadConfigFile(join(tmp, 'nope.conf')));
    assert.equal(e.file, join(tmp, 'nope.conf'));
    assert.equal(
      e.message,
      `${join(tmp, 'nope.conf')}: cannot read configuration file: no such file or directory`,
    );
  });

  test('a directory given as the configuration file is refused', async () => {
    const e = await rejection(() => loadConfigFile(tmp));
    assert.match(e.message, /is a directory, not a configuration file/);
  });

  test('a relative config path and its relative options resolve against cwd', async () => {
    const root = tree('relative', { 'etc/h.conf': 'listener 1883\npassword_file etc/pw\n' });
    const c = await loadConfigFile('etc/h.conf', { cwd: root });
    assert.equal(c.security.passwordFile, join(root, 'etc/pw'));
    assert.deepEqual(c.sources, ['etc/h.conf']);
  });
});

describe('include_dir', () => {
  test("files load in Mosquitto's order: case-insensitive, upper case first at a tie", () => {
    const names = ['b.conf', 'A.conf', '01.conf', 'a.conf', 'B.conf', '00.conf'];
    assert.deepEqual(names.sort(compareIncludeNames), [
      '00.conf',
      '01.conf',
      'A.conf',
      'a.conf',
      'B.conf',
      'b.conf',
    ]);
  });

  test('only *.conf files are read, each include_dir completely and in the order written', async () => {
    const root = tree('order', {
      'main.conf': 'include_dir one.d\ninclude_dir two.d\n',
      'one.d/C.conf': 'listener 1003\n',
      'one.d/B.conf': 'listener 1002\n',
      'one.d/notes.txt': 'this is not configuration\n',
      'one.d/.conf': 'listener 9999\n',
      'two.d/D.conf': 'listener 2004\n',
      'two.d/A.conf': 'listener 2001\n',
    });
    const c = await loadConfigFile(join(root, 'main.conf'), { cwd: root });
    assert.deepEqual(
      c.listeners.map((l) => l.port),
      [1002, 1003, 2001, 2004],
    );
    assert.deepEqual(c.sources, [
      join(root, 'main.conf'),
      'one.d/B.conf',
      'one.d/C.conf',
      'two.d/A.conf',
      'two.d/D.conf',
    ]);
  });

  test('each included file starts outside any listener or bridge block, and the main file continues its own', async () => {
    const root = tree('blocks', {
      'main.conf': 'listener 1883\ninclude_dir conf.d\nmax_connections 9\n',
      'conf.d/a.conf': 'listener 8883\nmax_connections 3\n',
      'conf.d/b.conf': 'topic x\n',
    });
    const e = await rejection(() => loadConfigFile(join(root, 'main.conf'), { cwd: root }));
    assert.equal(
      e.message,
      "conf.d/b.conf:1: topic: this is a bridge option: it must follow a 'connection NAME' line",
    );
    writeFileSync(join(root, 'conf.d/b.conf'), '# nothing\n');
    const c = await loadConfigFile(join(root, 'main.conf'), { cwd: root });
    assert.deepEqual(
      c.listeners.map((l) => [l.port, l.maxConnections]),
      [
        [1883, 9],
        [8883, 3],
      ],
    );
  });

  test('errors in included files name the included file and its line', async () => {
    const root = tree('inc-error', {
      'main.conf': 'include_dir d\n',
      'd/x.conf': '\n\nmax_qos 7\n',
    });
    const e = await rejection(() => loadConfigFile(join(root, 'main.conf'), { cwd: root }));
    assert.deepEqual([e.file, e.line, e.option], ['d/x.conf', 3, 'max_qos']);
  });

  test('include_dir is only honoured in the main file', async () => {
    const root = tree('nested', {
      'main.conf': 'include_dir d\n',
      'd/x.conf': 'include_dir e\n',
      'e/y.conf': 'listener 1\n',
    });
    const c = await loadConfigFile(join(root, 'main.conf'), { cwd: root });
    assert.equal(c.localOnly, true);
    assert.deepEqual(
      c.warnings.map((w) => [w.file, w.line, w.option, w.kind]),
      [['d/x.conf', 1, 'include_dir', 'ignored']],
    );
  });

  test('a missing include_dir is an error on its line', async () => {
    const root = tree('missing-dir', { 'main.conf': '\ninclude_dir nowhere\n' });
    const e = await rejection(() => loadConfigFile(join(root, 'main.conf'), { cwd: root }));
    assert.equal(
      e.message,
      `${join(root, 'main.conf')}:2: include_dir: cannot open directory 'nowhere': no such file or directory`,
    );
  });

  test('an include_dir holding the main file is refused', async () => {
    const root = tree('self', { 'main.conf': 'include_dir .\n' });
    const e = await rejection(() => loadConfigFile(join(root, 'main.conf'), { cwd: root }));
    assert.match(e.message, /contains the main configuration file itself/);
  });

  test('duplicate listeners across files are reported with both places', async () => {
    const root = tree('dup', {
      'main.conf': 'listener 1883\ninclude_dir d\n',
      'd/x.conf': 'listener 1883\n',
    });
    const e = await rejection(() => loadConfigFile(join(root, 'main.conf'), { cwd: root }));
    assert.equal(
      e.message,
      `d/x.conf:1: listener: port 1883 is already used by the listener at ${join(root, 'main.conf')}:1`,
    );
  });
});

const DEBIAN_CONF = '/etc/mosquitto/mosquitto.conf';

describe("Debian's mosquitto package files", () => {
  test('the stock /etc/mosquitto/mosquitto.conf with a conf.d drop-in loads (paths moved to a temp dir)', {
    skip: existsSync(DEBIAN_CONF) ? false : `${DEBIAN_CONF} is absent (mosquitto not installed)`,
  }, async () => {
    const root = join(tmp, 'debian');
    mkdirSync(join(root, 'conf.d'), { recursive: true });
    const stock = readFileSync(DEBIAN_CONF, 'utf8')
      .replaceAll('/etc/mosquitto', root)
      .replaceAll('/var/', `${root}/var/`)
      .replaceAll('/run/', `${root}/run/`);
    writeFileSync(join(root, 'mosquitto.conf'), stock);
    // Without drop-ins the stock file configures no listener: local-only mode.
    const bare = await loadConfigFile(join(root, 'mosquitto.conf'));
    assert.equal(bare.localOnly, true);
    assert.equal(bare.persistence, true);
    assert.equal(bare.persistenceLocation, join(root, 'var/lib/mosquitto'));
    assert.deepEqual(bare.log.dest, ['file']);
    assert.equal(bare.log.file, join(root, 'var/log/mosquitto/mosquitto.log'));
    assert.equal(bare.pidFile, join(root, 'run/mosquitto/mosquitto.pid'));
    assert.deepEqual(bare.warnings, []);
    // The usual Debian way to open the broker up: a file in conf.d.
    writeFileSync(join(root, 'conf.d', 'README'), 'Place your local configuration here\n');
    writeFileSync(
      join(root, 'conf.d', 'local.conf'),
      `listener 1883\nallow_anonymous false\npassword_file ${root}/passwd\n`,
    );
    const c = await loadConfigFile(join(root, 'mosquitto.conf'));
    assert.equal(c.localOnly, false);
    assert.deepEqual(
      c.listeners.map((l) => [l.port, l.bindAddress]),
      [[1883, undefined]],
    );
    assert.equal(c.security.allowAnonymous, false);
    assert.equal(c.security.passwordFile, join(root, 'passwd'));
    assert.deepEqual(c.sources, [join(root, 'mosquitto.conf'), join(root, 'conf.d', 'local.conf')]);
  });

  const exampleDir = '/usr/share/doc/mosquitto/examples';
  const examplePath = [`${exampleDir}/mosquitto.conf`, `${exampleDir}/mosquitto.conf.gz`].find(
    (p) => existsSync(p),
  );
  const example = () => {
    const raw = readFileSync(examplePath!);
    return (examplePath!.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  };
  const skipExample = examplePath
    ? false
    : `Mosquitto's example configuration is absent from ${exampleDir}`;

  test("Mosquitto's example mosquitto.conf parses without error", { skip: skipExample }, () => {
    const c = parseConfigText(example(), 'mosquitto.conf.example');
    assert.equal(c.localOnly, true);
    assert.deepEqual(c.warnings, []);
  });

  test('every option named in the example is known to Heron', { skip: skipExample }, () => {
    const named = new Set<string>();
    for (const line of example().split('\n')) {
      // Option lines are commented out with '#' directly before the name; prose has '# '.
      const m = /^#([a-z][a-z0-9_.]*)(?:\s|$)/.exec(line);
      if (m) named.add(m[1]!);
    }
    assert.ok(named.size > 80, `only ${named.size} options found in the example`);
    const unknown = [...named].filter(
      (o) => !OPTIONS.has(o) && !PLUGIN_OPTION_PREFIXES.some((p) => o.startsWith(p)),
    );
    assert.deepEqual(unknown, []);
  });

  test("the example's documented values, uncommented, are accepted and give Heron's defaults", {
    skip: skipExample,
  }, () => {
    const placeholders: Record<string, string> = {
      connection: 'connection example',
      address: 'address 127.0.0.1:1884',
      addresses: 'addresses 127.0.0.1:1884',
      topic: 'topic # out 0',
    };
    const lines: string[] = [];
    for (const line of example().split('\n')) {
      const m = /^#([a-z][a-z0-9_.]*) (\S.*)$/.exec(line);
      if (!m || !OPTIONS.has(m[1]!)) continue;
      lines.push(placeholders[m[1]!] ?? `${m[1]} ${m[2]}`);
    }
    assert.ok(lines.length > 40, `only ${lines.length} uncommented lines`);
    const c = parseConfigText(`${lines.join('\n')}\n`, 'uncommented.conf');
    assert.equal(c.maxInflightMessages, 20);
    assert.equal(c.maxQueuedMessages, 1000);
    assert.equal(c.maxKeepalive, 65535);
    assert.equal(c.sysInterval, 10);
    assert.equal(c.autosaveInterval, 1800);
    assert.equal(c.persistenceFile, 'mosquitto.db');
    assert.equal(c.security.autoIdPrefix, 'auto-');
    assert.equal(c.bridges[0]!.keepalive, 60);
    assert.equal(c.bridges[0]!.protocolVersion, 'mqttv311');
    assert.deepEqual([c.bridges[0]!.backoffBase, c.bridges[0]!.backoffCap], [5, 30]);
  });
});

describe("Heron's own sample configuration", () => {
  const sample = fileURLToPath(
    new URL('../../../test/config/fixtures/sample.conf', import.meta.url),
  );

  test('loads into the expected listeners, security, bridge and general options', async () => {
    const c = await loadConfigFile(sample, { cwd: '/srv/heron' });
    assert.equal(c.perListenerSettings, true);
    assert.deepEqual(
      [c.persistence, c.persistenceBackend, c.persistenceLocation],
      [true, 'lmdb', '/srv/heron/data'],
    );
    assert.equal(c.persistentClientExpiration, 14 * 86400);
    assert.deepEqual(
      [c.maxInflightMessages, c.maxQueuedMessages, c.maxQueuedBytes],
      [40, 5000, 10485760],
    );
    assert.deepEqual(c.log.dest, ['stdout', 'file']);
    assert.equal(c.log.file, '/srv/heron/logs/broker.log');
    assert.deepEqual(c.log.types, ['error', 'warning', 'subscribe']);
    assert.equal(c.log.timestampFormat, '%Y-%m-%dT%H:%M:%S');
    assert.deepEqual(
      [c.persistenceSync, c.persistenceSyncInterval, c.sharedSubscriptionStrategy, c.maxQueuedDrop],
      ['interval', 25, 'hash_clientid', 'oldest'],
    );
    assert.deepEqual(c.admin, { port: 8080, bindAddress: '127.0.0.1', token: 'change-me' });

    const [office, tls, ws] = c.listeners;
    assert.equal(c.listeners.length, 3);
    assert.deepEqual(
      [office!.port, office!.bindAddress, office!.maxConnections],
      [1883, '0.0.0.0', 500],
    );
    assert.equal(office!.security!.passwordFile, '/srv/heron/passwords.txt');
    assert.equal(office!.security!.allowAnonymous, false);
    assert.deepEqual(tls!.tls, {
      certfile: '/srv/heron/certs/server.crt',
      keyfile: '/srv/heron/certs/server.key',
      cafile: '/srv/heron/certs/ca.crt',
      requireCertificate: true,
      useIdentityAsUsername: true,
      useSubjectAsUsername: false,
      tlsVersion: 'tlsv1.2',
      keyform: 'pem',
    });
    assert.deepEqual(
      [ws!.protocol, ws!.websocketsPath, ws!.mountPoint, ws!.maxQos],
      ['websockets', '/ws', 'browsers/', 1],
    );
    assert.deepEqual(
      [
        ws!.security!.allowAnonymous,
        ws!.security!.allowZeroLengthClientid,
        ws!.security!.autoIdPrefix,
      ],
      [true, false, 'web-'],
    );

    const b = c.bridges[0]!;
    assert.equal(b.name, 'central');
    assert.deepEqual(b.addresses, [
      { host: 'central.example.net', port: 8883 },
      { host: 'backup.example.net', port: 1883 },
    ]);
    assert.deepEqual(
      [b.roundRobin, b.username, b.password, b.protocolVersion, b.cleanSession, b.keepalive],
      [true, 'site-7', 's3cret', 'mqttv50', true, 30],
    );
    assert.equal(b.tls!.cafile, '/srv/heron/certs/central-ca.crt');
    assert.deepEqual(b.topics, [
      { pattern: 'sensors/#', direction: 'out', qos: 1, remotePrefix: 'site7/' },
      {
        pattern: 'commands/#',
        direction: 'in',
        qos: 2,
        localPrefix: 'site/',
        remotePrefix: 'central/site7/',
      },
      {
        pattern: '',
        direction: 'both',
        qos: 0,
        localPrefix: 'local/status',
        remotePrefix: 'remote/status',
      },
    ]);
    assert.deepEqual(
      c.warnings.map((w) => `${w.line}:${w.option}`),
      ['9:autosave_interval'],
    );
  });
});
