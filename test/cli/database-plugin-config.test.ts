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

test('per_listener_settings: a database auth_plugin on only one listener is refused with a clear error', async () => {
  const text = [
    'per_listener_settings true',
    'listener 1883 127.0.0.1',
    'allow_anonymous true',
    'listener 8883',
    'allow_anonymous false',
    ...plugin,
    '',
  ].join('\n');
  await assert.rejects(
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
  const auth = await pluginAuthFromConfig(parseConfigText(text, 'mosquitto.conf'));
  assert.ok(auth !== undefined);
  assert.ok(auth.hooks.authenticate !== undefined);
  await auth.close();
});

const httpPlugin = [
  'auth_plugin /mosquitto/go-auth.so',
  'auth_opt_backends http',
  'auth_opt_http_host localhost',
  'auth_opt_http_port 8080',
  'auth_opt_http_getuser_uri /auth',
  'auth_opt_http_aclcheck_uri /acl',
];

/** The ConfigError a configuration raises, for its message and option. */
async function configError(lines: string[]): Promise<ConfigError> {
  try {
    await pluginAuthFromConfig(parseConfigText(`${lines.join('\n')}\n`, 'mosquitto.conf'));
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('no ConfigError');
}

test("go-auth's http backend: defaults of the README, options read as written", async () => {
  const cfg = (extra: string[]) =>
    pluginAuthFromConfig(parseConfigText(`${[...httpPlugin, ...extra].join('\n')}\n`, 'm.conf'));
  const plain = (await cfg([]))!;
  assert.deepEqual(
    { ...plain.settings, pluginPath: undefined },
    {
      backend: 'http',
      flavour: 'go-auth',
      pluginPath: undefined,
      host: 'localhost',
      port: 8080,
      tls: false,
      verifyPeer: false,
      method: 'POST',
      userUri: '/auth',
      superuserUri: undefined,
      aclUri: '/acl',
      paramsMode: 'json',
      responseMode: 'status',
      timeoutSeconds: 5,
      userAgent: 'mosquitto',
      retryCount: 0,
      aclCacheSeconds: 30,
      denySpecialChars: true,
    },
  );
  await plain.close();
  const permissive = (await cfg(['auth_plugin_deny_special_chars false']))!;
  assert.equal(permissive.settings.denySpecialChars, false);
  await permissive.close();
  const custom = (await cfg([
    'auth_opt_http_superuser_uri /su',
    'auth_opt_http_with_tls true',
    'auth_opt_http_verify_peer true',
    'auth_opt_http_params_mode form',
    'auth_opt_http_response_mode JSON',
    'auth_opt_http_method put',
    'auth_opt_http_timeout 2',
    'auth_opt_retry_count 2',
    'auth_opt_acl_cache_seconds 5',
  ]))!;
  assert.equal(custom.target, 'service https://localhost:8080');
  assert.deepEqual(
    [
      custom.settings.backend === 'http' && [
        custom.settings.superuserUri,
        custom.settings.tls,
        custom.settings.verifyPeer,
        custom.settings.paramsMode,
        custom.settings.responseMode,
        custom.settings.method,
        custom.settings.timeoutSeconds,
        custom.settings.retryCount,
        custom.settings.aclCacheSeconds,
      ],
    ],
    [['/su', true, true, 'form', 'json', 'PUT', 2, 2, 5]],
  );
  await custom.close();
});

test("go-auth's http backend: missing or wrong options name the option", async () => {
  const without = (key: string) => httpPlugin.filter((l) => !l.startsWith(key));
  for (const key of ['http_host', 'http_port', 'http_getuser_uri', 'http_aclcheck_uri']) {
    const e = await configError(without(`auth_opt_${key}`));
    assert.equal(e.option, `auth_opt_${key}`);
    assert.match(e.message, /required/);
  }
  assert.equal(
    (await configError([...httpPlugin, 'auth_opt_http_params_mode xml'])).option,
    'auth_opt_http_params_mode',
  );
  assert.equal(
    (await configError([...httpPlugin, 'auth_opt_http_response_mode yes'])).option,
    'auth_opt_http_response_mode',
  );
  assert.equal(
    (await configError([...httpPlugin, 'auth_opt_http_timeout soon'])).option,
    'auth_opt_http_timeout',
  );
  assert.equal(
    (await configError([...httpPlugin, 'auth_opt_http_port 99999'])).option,
    'auth_opt_http_port',
  );
  assert.equal(
    (
      await configError([
        ...httpPlugin,
        'auth_opt_http_params_mode form',
        'auth_opt_http_method GET',
      ])
    ).option,
    'auth_opt_http_method',
  );
  const both = await configError([
    ...httpPlugin.slice(0, 1),
    'auth_opt_backends mysql, http',
    ...httpPlugin.slice(2),
  ]);
  assert.match(both.message, /one backend at a time/);
  assert.match(
    (await configError([...httpPlugin.slice(0, 1), 'auth_opt_backends redis'])).message,
    /built in: mysql, http/,
  );
});
