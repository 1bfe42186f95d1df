import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listenerSecurity, listenerSummary } from '../../src/config/listener-info.js';
import { parseConfigText } from '../../src/config/parse.js';
import type { HeronConfig } from '../../src/config/types.js';

const parse = (text: string, cwd = '/srv'): HeronConfig => parseConfigText(text, 'm.conf', { cwd });
const warningsOf = (c: HeronConfig) => c.warnings.map((w) => `${w.line}:${w.option}:${w.kind}`);

describe('file syntax', () => {
  test('comments, blank lines, indentation, tabs, CRLF and trailing whitespace are tolerated', () => {
    const c = parse(
      '\ufeff# heading\r\n\r\n   # indented note\n\tlistener\t1884   127.0.0.1  \r\nmax_connections 5\t\n',
    );
    assert.equal(c.listeners.length, 1);
    assert.deepEqual(
      [c.listeners[0]!.port, c.listeners[0]!.bindAddress, c.listeners[0]!.maxConnections],
      [1884, '127.0.0.1', 5],
    );
    assert.deepEqual(c.warnings, []);
  });

  test('a trailing comment after a single value is ignored; other extra words are warned about', () => {
    const c = parse(
      'listener 1883 # all addresses\nmax_queued_messages 10 # note\nsys_interval 5 seconds\n',
    );
    assert.equal(c.listeners[0]!.bindAddress, undefined);
    assert.equal(c.maxQueuedMessages, 10);
    assert.equal(c.sysInterval, 5);
    assert.deepEqual(warningsOf(c), ['3:sys_interval:ignored']);
    assert.match(c.warnings[0]!.message, /extra text 'seconds' ignored/);
  });

  test('text values keep inner spaces', () => {
    const c = parse('password_file /etc/my broker/pw\n');
    assert.equal(c.security.passwordFile, '/etc/my broker/pw');
  });

  test('relative paths resolve against the working directory, as Mosquitto (which never chdirs) does', () => {
    const c = parse(
      'persistence_location data/\npid_file ../run/h.pid\nlog_dest file logs/h.log\n',
      '/opt/heron',
    );
    assert.equal(c.persistenceLocation, '/opt/heron/data');
    assert.equal(c.pidFile, '/opt/run/h.pid');
    assert.equal(c.log.file, '/opt/heron/logs/h.log');
  });

  test('booleans accept 1 and 0 like Mosquitto', () => {
    assert.equal(parse('persistence 1\n').persistence, true);
    assert.equal(parse('retain_available 0\n').retainAvailable, false);
  });
});

describe('durations', () => {
  const cases: [string, number][] = [
    ['2h', 7200],
    ['14d', 14 * 86400],
    ['1w', 604800],
    ['1m', 30 * 86400],
    ['1y', 365 * 86400],
  ];
  for (const [text, seconds] of cases) {
    test(`persistent_client_expiration ${text} is ${seconds} s`, () => {
      assert.equal(
        parse(`persistent_client_expiration ${text}\n`).persistentClientExpiration,
        seconds,
      );
    });
  }
});

describe('logging', () => {
  test('the first log_dest replaces stderr; later ones add; none clears', () => {
    assert.deepEqual(parse('log_dest stdout\nlog_dest topic\n').log.dest, ['stdout', 'topic']);
    assert.deepEqual(parse('log_dest stdout\nlog_dest none\n').log.dest, []);
    const f = parse('log_dest file /var/log/h.log\n');
    assert.deepEqual([f.log.dest, f.log.file], [['file'], '/var/log/h.log']);
  });

  test('log_type accumulates, all selects every type and none clears', () => {
    assert.deepEqual(parse('log_type error\nlog_type subscribe\nlog_type error\n').log.types, [
      'error',
      'subscribe',
    ]);
    assert.equal(parse('log_type all\n').log.types.length, 9);
    assert.deepEqual(parse('log_type all\nlog_type none\n').log.types, []);
  });
});

describe("Mosquitto 2's local-only mode and the default listener", () => {
  test('with no listener, Heron listens on 127.0.0.1 and ::1 port 1883 and allows anonymous clients', () => {
    const c = parse('persistence true\nallow_anonymous false\n');
    assert.equal(c.localOnly, true);
    assert.deepEqual(
      c.listeners.map((l) => [l.bindAddress, l.port, l.origin]),
      [
        ['127.0.0.1', 1883, 'local-only'],
        ['::1', 1883, 'local-only'],
      ],
    );
    assert.equal(c.security.allowAnonymous, true);
    assert.deepEqual(warningsOf(c), ['2:allow_anonymous:ignored']);
  });

  test('admin options without an admin_listener are each reported as ignored, and no admin runs', () => {
    const c = parse(
      'listener 1883\nadmin_token t\nadmin_users_file u\nadmin_latency_probe mqtt://127.0.0.1\n',
    );
    assert.equal(c.admin, undefined);
    assert.deepEqual(warningsOf(c), [
      '2:admin_token:ignored',
      '3:admin_users_file:ignored',
      '4:admin_latency_probe:ignored',
    ]);
  });

  test('listener options written with no listener at all are reported as ignored', () => {
    const c = parse('max_connections 10\nprotocol websockets\n');
    assert.equal(c.localOnly, true);
    assert.deepEqual(warningsOf(c), ['1:max_connections:ignored', '2:protocol:ignored']);
  });

  test('once a listener exists, allow_anonymous defaults to false', () => {
    const c = parse('listener 1883\n');
    assert.equal(c.localOnly, false);
    assert.equal(c.security.allowAnonymous, false);
    assert.equal(c.security.allowAnonymousExplicit, false);
  });

  test('port and bind_address make the deprecated default listener', () => {
    const c = parse('port 1885\nbind_address 127.0.0.1\nmax_connections 3\n');
    assert.equal(c.localOnly, false);
    assert.equal(c.listeners.length, 1);
    const l = c.listeners[0]!;
    assert.deepEqual(
      [l.origin, l.port, l.bindAddress, l.maxConnections],
      ['default', 1885, '127.0.0.1', 3],
    );
    assert.deepEqual(warningsOf(c), ['1:port:deprecated', '2:bind_address:deprecated']);
  });

  test('listener options before the first listener open the default listener on 1883 too, with a warning', () => {
    const c = parse('max_connections 10\nlistener 8883\n');
    assert.deepEqual(
      c.listeners.map((l) => [l.port, l.origin]),
      [
        [8883, 'listener'],
        [1883, 'default'],
      ],
    );
    assert.deepEqual(warningsOf(c), ['1:max_connections:deprecated']);
  });

  test('default values written before the first listener do not open the default listener (as in Mosquitto)', () => {
    const c = parse('max_connections -1\nmax_qos 2\nlistener 8883\n');
    assert.deepEqual(
      c.listeners.map((l) => l.port),
      [8883],
    );
    assert.deepEqual(warningsOf(c), ['1:max_connections:ignored', '2:max_qos:ignored']);
  });

  test('options that do not create the default listener are reported as ignored there', () => {
    const c = parse('max_topic_alias 5\nlistener 8883\n');
    assert.deepEqual(
      c.listeners.map((l) => l.port),
      [8883],
    );
    assert.deepEqual(warningsOf(c), ['1:max_topic_alias:ignored']);
  });

  test('listener 0 with a path is a Unix socket; without a path it asks for any free port', () => {
    const c = parse('listener 0 run/mqtt.sock\nlistener 0\nlistener 0 127.0.0.1\n', '/var');
    assert.equal(c.listeners[0]!.unixSocketPath, '/var/run/mqtt.sock');
    assert.equal(c.listeners[1]!.port, 0);
  });

  test('the same port on different addresses or IP families is fine', () => {
    const c = parse(
      'listener 1883 127.0.0.1\nlistener 1883 ::1\nlistener 1884\nsocket_domain ipv4\nlistener 1884\nsocket_domain ipv6\n',
    );
    assert.equal(c.listeners.length, 4);
  });
});

describe('per_listener_settings', () => {
  test('false: security options anywhere apply to every listener', () => {
    const c = parse('listener 1883\npassword_file /pw\nlistener 8883\nallow_anonymous true\n');
    assert.equal(c.security.passwordFile, '/pw');
    assert.equal(c.security.allowAnonymous, true);
    for (const l of c.listeners) {
      assert.equal(l.security, undefined);
      assert.equal(listenerSecurity(c, l), c.security);
    }
  });

  test('true: each listener block carries its own security, anonymous false unless allowed', () => {
    const c = parse(
      'per_listener_settings true\nlistener 1883\nallow_anonymous true\nlistener 8883\npassword_file /pw\nacl_file /acl\nauto_id_prefix tls-\nallow_zero_length_clientid false\n',
    );
    const [plain, secure] = c.listeners;
    assert.equal(plain!.security!.allowAnonymous, true);
    assert.equal(plain!.security!.passwordFile, undefined);
    assert.equal(secure!.security!.allowAnonymous, false);
    assert.equal(secure!.security!.passwordFile, '/pw');
    assert.equal(secure!.security!.aclFile, '/acl');
    assert.equal(secure!.security!.autoIdPrefix, 'tls-');
    assert.equal(secure!.security!.allowZeroLengthClientid, false);
    assert.equal(listenerSecurity(c, secure!), secure!.security);
    assert.equal(c.security.passwordFile, undefined);
  });

  test('true: the same option in two listener blocks is not a duplicate', () => {
    const c = parse(
      'per_listener_settings true\nlistener 1883\npassword_file /a\nlistener 1884\npassword_file /b\n',
    );
    assert.deepEqual(
      c.listeners.map((l) => l.security!.passwordFile),
      ['/a', '/b'],
    );
  });
});

describe('warnings for what Heron accepts but does not do', () => {
  const unimplemented = [
    'psk_file /psk',
    'plugin /usr/lib/mosquitto_dynamic_security.so',
    'auth_plugin /a.so',
    'memory_limit 100',
    'websockets_log_level 255',
    'log_dest dlt',
  ];
  for (const line of unimplemented) {
    const option = line.split(' ')[0]!;
    test(`${option} warns "not implemented by Heron, ignored"`, () => {
      const c = parse(`${line}\n`);
      assert.equal(c.warnings.length, 1);
      assert.deepEqual(
        { ...c.warnings[0]!, message: c.warnings[0]!.message.replace(/ \(.*\)$/, '') },
        {
          file: 'm.conf',
          line: 1,
          option,
          kind: 'unimplemented',
          message: 'not implemented by Heron, ignored',
        },
      );
    });
  }

  test('listener-level unimplemented options warn too (psk_hint, tls_engine, tls_keyform engine)', () => {
    const c = parse(
      'listener 8883\ncertfile /c\nkeyfile /k\npsk_hint h\ntls_engine e\ntls_keyform engine\n',
    );
    assert.deepEqual(warningsOf(c), [
      '4:psk_hint:unimplemented',
      '5:tls_engine:unimplemented',
      '6:tls_keyform:unimplemented',
    ]);
  });

  test('plugin options attach to the plugin before them', () => {
    const c = parse('plugin /p.so\nplugin_opt_config_file /etc/dynsec.json\nauth_opt_db mydb\n');
    assert.deepEqual(c.security.plugins[0]!.options, {
      config_file: '/etc/dynsec.json',
      db: 'mydb',
    });
  });

  test('deprecated options say so', () => {
    const c = parse('allow_duplicate_messages true\nclientid_prefixes x-\n');
    assert.deepEqual(warningsOf(c), [
      '1:allow_duplicate_messages:deprecated',
      '2:clientid_prefixes:deprecated',
    ]);
  });

  test('values Mosquitto adjusts are adjusted the same way, with a warning', () => {
    const c = parse(
      'max_queued_messages -1\nmax_inflight_messages 65535\nlistener 1883\nmax_connections -5\nconnection b\naddress h\ntopic t\nkeepalive_interval 2\nrestart_timeout 0\n',
    );
    assert.equal(c.maxQueuedMessages, 0);
    assert.equal(c.maxInflightMessages, 0);
    assert.equal(c.listeners[0]!.maxConnections, -1);
    assert.equal(c.bridges[0]!.keepalive, 5);
    assert.equal(c.bridges[0]!.restartTimeout, 1);
    assert.deepEqual(warningsOf(c), [
      '1:max_queued_messages:adjusted',
      '4:max_connections:adjusted',
      '8:keepalive_interval:adjusted',
      '9:restart_timeout:adjusted',
    ]);
  });

  test('TLS options without certfile and keyfile leave the listener unencrypted, with a warning', () => {
    const c = parse('listener 8883\ncafile /ca.pem\nrequire_certificate true\n');
    assert.equal(c.listeners[0]!.tls, undefined);
    assert.deepEqual(warningsOf(c), ['2:cafile:ignored']);
  });

  test('persistence_backend lmdb with persistence false is reported', () => {
    const c = parse('persistence_backend lmdb\n');
    assert.equal(c.persistenceBackend, 'memory');
    assert.deepEqual(warningsOf(c), ['1:persistence_backend:ignored']);
  });
});

describe('bridges', () => {
  test('several bridges, each with its own options, topics and TLS', () => {
    const c = parse(
      [
        'connection one',
        'address 192.0.2.1:1884',
        'topic # both 2 local/ remote/',
        'topic a/b',
        'topic "" in 1 here/x there/y',
        'bridge_cafile /ca.pem',
        'bridge_certfile /c.pem',
        'bridge_keyfile /k.pem',
        'connection two',
        'address 192.0.2.2',
        'remote_clientid two-remote',
        'cleansession true',
        'local_cleansession false',
        'topic x/# out 1 "" r/',
        'restart_timeout 5 60',
      ].join('\n'),
    );
    const [one, two] = c.bridges;
    assert.deepEqual(one!.addresses, [{ host: '192.0.2.1', port: 1884 }]);
    assert.deepEqual(one!.topics, [
      { pattern: '#', direction: 'both', qos: 2, localPrefix: 'local/', remotePrefix: 'remote/' },
      { pattern: 'a/b', direction: 'out', qos: 0 },
      { pattern: '', direction: 'in', qos: 1, localPrefix: 'here/x', remotePrefix: 'there/y' },
    ]);
    assert.deepEqual(one!.tls, {
      cafile: '/ca.pem',
      certfile: '/c.pem',
      keyfile: '/k.pem',
      insecure: false,
      tlsVersion: 'tlsv1.2',
      requireOcsp: false,
    });
    assert.equal(two!.clientId, 'two-remote');
    assert.equal(two!.localClientId, 'local.two-remote');
    assert.deepEqual([two!.cleanSession, two!.localCleanSession], [true, false]);
    assert.deepEqual(two!.topics, [
      { pattern: 'x/#', direction: 'out', qos: 1, remotePrefix: 'r/' },
    ]);
    assert.deepEqual([two!.restartTimeout, two!.backoffBase, two!.backoffCap], [0, 5, 60]);
    assert.equal(two!.tls, undefined);
    assert.deepEqual(one!.source, { file: 'm.conf', line: 1 });
  });

  test('a bridge block does not end the listener block: listener options after it still apply to it', () => {
    const c = parse('listener 1883\nconnection b\naddress h\ntopic t\nmax_connections 7\n');
    assert.equal(c.listeners[0]!.maxConnections, 7);
  });

  test('listenerSummary describes listeners for logs', () => {
    const c = parse(
      'listener 8883 0.0.0.0\ncertfile /c\nkeyfile /k\nrequire_certificate true\nlistener 9001 ::1\nprotocol websockets\nmount_point m/\nlistener 0 /run/h.sock\n',
    );
    assert.deepEqual(c.listeners.map(listenerSummary), [
      'mqtts on 0.0.0.0:8883 (client certificates required)',
      'ws on [::1]:9001 (path /mqtt, mount point m/)',
      'mqtt on unix:/run/h.sock',
    ]);
  });
});
