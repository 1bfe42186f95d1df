import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/parse.js';

/** Parses `text` as mosquitto.conf and returns the ConfigError it must raise. */
function failure(text: string): ConfigError {
  try {
    parseConfigText(text, 'mosquitto.conf', { cwd: '/srv' });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`no error for:\n${text}`);
}

/** Asserts the error's location fields and full message. */
function expectError(
  text: string,
  line: number | undefined,
  option: string,
  message: string,
): void {
  const e = failure(text);
  assert.equal(e.file, 'mosquitto.conf');
  assert.equal(e.line, line);
  assert.equal(e.option, option);
  assert.equal(e.message, message);
}

describe('error messages name file, line, option and what was expected', () => {
  const cases: [string, string, number | undefined, string, string][] = [
    [
      'not an integer',
      '# c\n\nmax_inflight_messages abc\n',
      3,
      'max_inflight_messages',
      "mosquitto.conf:3: max_inflight_messages: expected an integer from 0 to 65535, got 'abc'",
    ],
    [
      'integer above range',
      'max_keepalive 65536\n',
      1,
      'max_keepalive',
      "mosquitto.conf:1: max_keepalive: expected an integer from 0 to 65535, got '65536'",
    ],
    [
      'max_qos out of range',
      'listener 1883\nmax_qos 3\n',
      2,
      'max_qos',
      "mosquitto.conf:2: max_qos: expected an integer from 0 to 2, got '3'",
    ],
    [
      'message_size_limit above the MQTT maximum',
      'message_size_limit 268435456\n',
      1,
      'message_size_limit',
      "mosquitto.conf:1: message_size_limit: expected an integer from 0 to 268435455, got '268435456'",
    ],
    [
      'max_packet_size below 20',
      'max_packet_size 10\n',
      1,
      'max_packet_size',
      "mosquitto.conf:1: max_packet_size: expected 0 (no limit) or at least 20 bytes, got '10'",
    ],
    [
      'non-negative integer',
      'max_subscriptions_per_client -3\n',
      1,
      'max_subscriptions_per_client',
      "mosquitto.conf:1: max_subscriptions_per_client: expected a non-negative integer, got '-3'",
    ],
    [
      'bad boolean',
      'persistence yes\n',
      1,
      'persistence',
      "mosquitto.conf:1: persistence: expected true or false, got 'yes'",
    ],
    [
      'missing value',
      'persistence\n',
      1,
      'persistence',
      'mosquitto.conf:1: persistence: expected true or false, got nothing',
    ],
    [
      'missing path',
      'password_file   \n',
      1,
      'password_file',
      'mosquitto.conf:1: password_file: expected a file path, got nothing',
    ],
    [
      'bad enum',
      'listener 1883\nprotocol mqttsn\n',
      2,
      'protocol',
      "mosquitto.conf:2: protocol: expected one of mqtt, websockets, got 'mqttsn'",
    ],
    [
      'bad port',
      'listener 70000\n',
      1,
      'listener',
      "mosquitto.conf:1: listener: expected a port number from 0 to 65535, got '70000'",
    ],
    [
      'bad port option',
      'port 0\n',
      1,
      'port',
      "mosquitto.conf:1: port: expected a port number from 1 to 65535, got '0'",
    ],
    [
      'bad duration',
      'persistent_client_expiration 10s\n',
      1,
      'persistent_client_expiration',
      "mosquitto.conf:1: persistent_client_expiration: expected a duration such as 2h, 14d, 1w, 1m or 1y, got '10s'",
    ],
    [
      'zero duration',
      'persistent_client_expiration 0d\n',
      1,
      'persistent_client_expiration',
      "mosquitto.conf:1: persistent_client_expiration: expected a duration greater than zero, got '0d'",
    ],
    [
      'unknown option with a hint',
      'max_inflight_mesages 10\n',
      1,
      'max_inflight_mesages',
      "mosquitto.conf:1: max_inflight_mesages: unknown option (did you mean 'max_inflight_messages'?)",
    ],
    [
      'unknown option without a hint',
      'frobnicate yes\n',
      1,
      'frobnicate',
      'mosquitto.conf:1: frobnicate: unknown option',
    ],
    [
      'log_dest file without a path',
      'log_dest file\n',
      1,
      'log_dest',
      "mosquitto.conf:1: log_dest: expected a file path after 'file', got nothing",
    ],
    [
      'two log files',
      'log_dest file /a.log\nlog_dest file /b.log\n',
      2,
      'log_dest',
      "mosquitto.conf:2: log_dest: only one 'log_dest file' is allowed",
    ],
    [
      'bad log_type',
      'log_type verbose\n',
      1,
      'log_type',
      "mosquitto.conf:1: log_type: expected one of error, warning, notice, information, subscribe, unsubscribe, websockets, debug, internal, none, all, got 'verbose'",
    ],
    [
      'duplicate single-valued option',
      'password_file /a\nlistener 1883\npassword_file /b\n',
      3,
      'password_file',
      'mosquitto.conf:3: password_file: given twice in the same block (first at mosquitto.conf:1)',
    ],
    [
      'bridge option outside a bridge',
      'topic a/# out 0\n',
      1,
      'topic',
      "mosquitto.conf:1: topic: this is a bridge option: it must follow a 'connection NAME' line",
    ],
    [
      'mount_point before any listener',
      'mount_point a/\n',
      1,
      'mount_point',
      "mosquitto.conf:1: mount_point: must follow a 'listener' line",
    ],
    [
      'wildcard in mount_point',
      'listener 1883\nmount_point a/#\n',
      2,
      'mount_point',
      "mosquitto.conf:2: mount_point: mount point 'a/#' must not contain the wildcards + or #",
    ],
    [
      'per_listener_settings after security options',
      'allow_anonymous true\nper_listener_settings true\n',
      2,
      'per_listener_settings',
      'mosquitto.conf:2: per_listener_settings: must be set before any other security option (password_file, acl_file, allow_anonymous, ...)',
    ],
    [
      'plugin option without a plugin',
      'plugin_opt_db x\n',
      1,
      'plugin_opt_db',
      "mosquitto.conf:1: plugin_opt_db: must follow a 'plugin' (or 'auth_plugin') line",
    ],
    [
      'duplicate listener',
      'listener 1883\nlistener 1883\n',
      2,
      'listener',
      'mosquitto.conf:2: listener: port 1883 is already used by the listener at mosquitto.conf:1',
    ],
    [
      'listener overlapping an all-address listener',
      'listener 1883\nlistener 1883 127.0.0.1\n',
      2,
      'listener',
      'mosquitto.conf:2: listener: port 1883 on 127.0.0.1 is already used by the listener at mosquitto.conf:1',
    ],
    [
      'certfile without keyfile',
      'listener 8883\ncertfile /c.pem\n',
      1,
      'certfile',
      'mosquitto.conf:1: certfile: certfile is given but keyfile is missing (TLS needs both)',
    ],
    [
      'bad tls_version',
      'listener 8883\ntls_version tlsv1.0\n',
      2,
      'tls_version',
      "mosquitto.conf:2: tls_version: expected one of tlsv1.3, tlsv1.2, tlsv1.1, got 'tlsv1.0'",
    ],
    [
      'duplicate bridge name',
      'connection a\naddress h\ntopic t\nconnection a\n',
      4,
      'connection',
      "mosquitto.conf:4: connection: a bridge named 'a' already exists (at mosquitto.conf:1)",
    ],
    [
      'bridge without address',
      'connection a\ntopic t\n',
      1,
      'connection',
      "mosquitto.conf:1: connection: bridge 'a' has no 'address' line",
    ],
    [
      'bridge without topic',
      'connection a\naddress h\n',
      1,
      'connection',
      "mosquitto.conf:1: connection: bridge 'a' has no 'topic' line",
    ],
    [
      'address twice',
      'connection a\naddress h\naddress i\n',
      3,
      'address',
      'mosquitto.conf:3: address: addresses already given for this bridge: list them all on one line',
    ],
    [
      'bad bridge address port',
      'connection a\naddress h:99999\n',
      2,
      'address',
      "mosquitto.conf:2: address: expected a port number from 1 to 65535, got '99999'",
    ],
    [
      'bad topic direction',
      'connection a\naddress h\ntopic t sideways\n',
      3,
      'topic',
      "mosquitto.conf:3: topic: expected the direction in, out or both, got 'sideways'",
    ],
    [
      'bad topic qos',
      'connection a\naddress h\ntopic t in 3\n',
      3,
      'topic',
      "mosquitto.conf:3: topic: expected QoS 0, 1 or 2, got '3'",
    ],
    [
      'empty topic without both prefixes',
      'connection a\naddress h\ntopic "" in 0 l/\n',
      3,
      'topic',
      'mosquitto.conf:3: topic: an empty ("") topic needs both a local and a remote prefix',
    ],
    [
      'wildcard in a prefix',
      'connection a\naddress h\ntopic t in 0 l/+/\n',
      3,
      'topic',
      "mosquitto.conf:3: topic: local prefix 'l/+/' must not contain the wildcards + or #",
    ],
    [
      'manual start type',
      'connection a\naddress h\nstart_type manual\n',
      3,
      'start_type',
      "mosquitto.conf:3: start_type: the 'manual' start type is not supported",
    ],
    [
      'backoff cap below base',
      'connection a\naddress h\nrestart_timeout 30 10\n',
      3,
      'restart_timeout',
      'mosquitto.conf:3: restart_timeout: the cap (10) is lower than the base (30)',
    ],
    [
      'keepalive_interval too high',
      'connection a\naddress h\nkeepalive_interval 70000\n',
      3,
      'keepalive_interval',
      "mosquitto.conf:3: keepalive_interval: expected an integer from 5 to 65535, got '70000'",
    ],
    [
      'PSK identity without key',
      'connection a\naddress h\ntopic t\nbridge_identity id\n',
      1,
      'connection',
      "mosquitto.conf:1: connection: bridge 'a' needs both bridge_identity and bridge_psk",
    ],
    [
      'same local client id',
      'connection a\naddress h\ntopic t\nlocal_clientid x\nconnection b\naddress h\ntopic t\nlocal_clientid x\n',
      5,
      'connection',
      "mosquitto.conf:5: connection: local client id 'x' is also used by bridge 'a'; set local_clientid on one of them",
    ],
    [
      'bad websockets_path',
      'listener 9001\nwebsockets_path mqtt\n',
      2,
      'websockets_path',
      "mosquitto.conf:2: websockets_path: expected a path starting with /, got 'mqtt'",
    ],
    [
      'bad redis url',
      'cluster_redis_url http://x\n',
      1,
      'cluster_redis_url',
      "mosquitto.conf:1: cluster_redis_url: expected a redis:// or rediss:// URL, got 'http://x'",
    ],
    [
      'Sentinel and Redis Cluster together',
      'cluster_redis_url redis://r\ncluster_redis_sentinel s1:26379\ncluster_redis_cluster c1:7000\n',
      3,
      'cluster_redis_cluster',
      'mosquitto.conf:3: cluster_redis_cluster: cluster_redis_sentinel and cluster_redis_cluster exclude each other',
    ],
    [
      'Redis Cluster seed without a port',
      'cluster_redis_url redis://r\ncluster_redis_cluster c1\n',
      2,
      'cluster_redis_cluster',
      "mosquitto.conf:2: cluster_redis_cluster: expected host:port, got 'c1'",
    ],
    [
      'malformed UTF-8',
      'user \ufffd\n',
      1,
      'user',
      'mosquitto.conf:1: user: the line is not valid UTF-8',
    ],
  ];
  for (const [name, text, line, option, message] of cases) {
    test(name, () => expectError(text, line, option, message));
  }

  test('server_redirect without server_reference names the option', () => {
    const e = failure('server_redirect server_moved\n');
    assert.equal(e.option, 'server_redirect');
    assert.match(e.message, /needs a server_reference/);
  });

  test('admin_latency_probe needs an MQTT URL and an interval of 1..3600 seconds', () => {
    expectError(
      'admin_listener 8080\nadmin_latency_probe http://127.0.0.1:1883\n',
      2,
      'admin_latency_probe',
      "mosquitto.conf:2: admin_latency_probe: expected an mqtt://, mqtts://, ws:// or wss:// URL such as mqtt://127.0.0.1:1883, got 'http://127.0.0.1:1883'",
    );
    expectError(
      'admin_latency_probe 127.0.0.1:1883\n',
      1,
      'admin_latency_probe',
      "mosquitto.conf:1: admin_latency_probe: expected an mqtt://, mqtts://, ws:// or wss:// URL such as mqtt://127.0.0.1:1883, got '127.0.0.1:1883'",
    );
    expectError(
      'admin_latency_probe mqtt://127.0.0.1:1883 0\n',
      1,
      'admin_latency_probe',
      "mosquitto.conf:1: admin_latency_probe: expected an integer from 1 to 3600, got '0'",
    );
  });

  test('admin_users_file given twice names the first line', () => {
    const e = failure('admin_users_file a\nadmin_listener 8080\nadmin_users_file b\n');
    assert.equal(e.line, 3);
    assert.match(e.message, /given twice in the same block \(first at mosquitto.conf:1\)/);
  });

  test('an admin listener may not share a port with an MQTT listener', () => {
    const e = failure('listener 8080\nadmin_listener 8080\n');
    assert.equal(
      e.message,
      'admin_listener: admin_listener port 8080 is also used by an MQTT listener (at mosquitto.conf:1)',
    );
  });
});
