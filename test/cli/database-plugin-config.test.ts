import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pluginAuthFromConfig } from '../../src/cli/broker-options.js';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/index.js';

const plugin = [
  'auth_plugin /usr/lib/mosquitto/auth-plug.so',
  'auth_opt_backends mysql',
  'auth_opt_host 127.0.0.1',
  'auth_opt_port 3306',
  'auth_opt_dbname mqtt',
  'auth_opt_user mqtt',
  'auth_opt_pass secret',
  "auth_opt_userquery SELECT pw FROM users WHERE username = '%s'",
];

test('per_listener_settings: a database auth_plugin on only one listener is refused with a clear error', () => {
  const text = [
    'per_listener_settings true',
    'listener 1883 127.0.0.1',
    'allow_anonymous true',
    'listener 8883',
    'allow_anonymous false',
    ...plugin,
    '',
  ].join('\n');
  assert.throws(
    () => pluginAuthFromConfig(parseConfigText(text, 'mosquitto.conf')),
    (err: unknown) =>
      err instanceof ConfigError &&
      /per_listener_settings/.test(err.message) &&
      /every listener/.test(err.message),
  );
});

test('per_listener_settings: the same database auth_plugin on every listener is used', async () => {
  const text = [
    'per_listener_settings true',
    'listener 1883 127.0.0.1',
    ...plugin,
    'listener 8883',
    ...plugin,
    '',
  ].join('\n');
  const auth = pluginAuthFromConfig(parseConfigText(text, 'mosquitto.conf'));
  assert.ok(auth !== undefined);
  assert.ok(auth.hooks.authenticate !== undefined);
  await auth.close();
});
