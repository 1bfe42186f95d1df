import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BROKER_USAGE, parseBrokerArgs, resolveConfig } from '../../src/config/args.js';
import { ConfigError } from '../../src/config/config-error.js';

const tmp = mkdtempSync(join(tmpdir(), 'heron-args-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The ConfigError that parsing `argv` must raise. */
function argError(argv: string[]): ConfigError {
  try {
    parseBrokerArgs(argv);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail(`no error for ${argv.join(' ')}`);
}

describe('parseBrokerArgs', () => {
  test('no flags', () => {
    assert.deepEqual(parseBrokerArgs([]), {
      ports: [],
      verbose: false,
      daemon: false,
      help: false,
      version: false,
    });
  });

  test('short and long forms of every flag', () => {
    const short = parseBrokerArgs(['-c', 'm.conf', '-p', '1884', '-v', '-d', '-h']);
    const long = parseBrokerArgs([
      '--config-file',
      'm.conf',
      '--port',
      '1884',
      '--verbose',
      '--daemon',
      '--help',
      '--version',
    ]);
    assert.deepEqual(short, {
      configFile: 'm.conf',
      port: 1884,
      ports: [1884],
      verbose: true,
      daemon: true,
      help: true,
      version: false,
    });
    assert.deepEqual(long, { ...short, version: true });
  });

  test('-p is repeatable up to 10 times, like Mosquitto', () => {
    const ten = Array.from({ length: 10 }, (_, i) => ['-p', String(2000 + i)]).flat();
    const a = parseBrokerArgs(ten);
    assert.equal(a.ports.length, 10);
    assert.equal(a.port, 2000);
    const e = argError([...ten, '-p', '3000']);
    assert.match(e.message, /^-p: at most 10 ports can be given\n/);
  });

  test('bad or missing values are errors that include the usage', () => {
    for (const [argv, start] of [
      [['-p', '0'], "-p expects a port number from 1 to 65535, got '0'"],
      [['-p', 'http'], "-p expects a port number from 1 to 65535, got 'http'"],
      [['-p'], '-p needs a port number'],
      [['-c'], '-c needs a configuration file path'],
      [['-c', 'a', '-c', 'b'], '-c given more than once'],
    ] as const) {
      const e = argError([...argv]);
      assert.ok(e.message.startsWith(`${argv[0]}: ${start}`), e.message);
      assert.ok(e.message.endsWith(BROKER_USAGE));
      assert.equal(e.option, argv[0]);
    }
  });

  test('an unknown flag is a ConfigError naming it, followed by the usage', () => {
    const e = argError(['-v', '--frobnicate']);
    assert.equal(e.option, '--frobnicate');
    assert.equal(e.message, `--frobnicate: unknown option '--frobnicate'\n\n${BROKER_USAGE}`);
    assert.equal(argError(['extra']).option, 'extra');
  });
});

describe('resolveConfig', () => {
  test('no config file: loopback-only listeners on 1883 with anonymous clients (Mosquitto 2)', async () => {
    const c = await resolveConfig(parseBrokerArgs([]));
    assert.equal(c.localOnly, true);
    assert.deepEqual(
      c.listeners.map((l) => `${l.bindAddress} ${l.port}`),
      ['127.0.0.1 1883', '::1 1883'],
    );
    assert.equal(c.security.allowAnonymous, true);
  });

  test('-p without a config file: loopback-only listeners on each given port', async () => {
    const c = await resolveConfig(parseBrokerArgs(['-p', '1884', '-p', '1885']));
    assert.deepEqual(
      c.listeners.map((l) => `${l.bindAddress} ${l.port}`),
      ['127.0.0.1 1884', '::1 1884', '127.0.0.1 1885', '::1 1885'],
    );
    assert.ok(c.listeners.every((l) => l.optional && l.origin === 'local-only'));
  });

  test('-p with a config file that has no listener: loopback-only on the -p port', async () => {
    const file = join(tmp, 'nolistener.conf');
    writeFileSync(file, 'persistence false\n');
    const c = await resolveConfig(parseBrokerArgs(['-c', file, '-p', '1999']));
    assert.deepEqual(
      c.listeners.map((l) => `${l.bindAddress} ${l.port}`),
      ['127.0.0.1 1999', '::1 1999'],
    );
    assert.deepEqual(c.sources, [file]);
  });

  test('-p with a config file that defines listeners is ignored, with a warning (as Mosquitto ignores it)', async () => {
    const file = join(tmp, 'listener.conf');
    writeFileSync(file, 'listener 18830 127.0.0.1\n');
    const c = await resolveConfig(parseBrokerArgs(['-c', file, '-p', '1999']));
    assert.deepEqual(
      c.listeners.map((l) => l.port),
      [18830],
    );
    assert.deepEqual(
      c.warnings.map((w) => [w.option, w.kind]),
      [['-p', 'ignored']],
    );
  });

  test('-v logs every type whatever log_type says; -d sets daemon', async () => {
    const file = join(tmp, 'quiet.conf');
    writeFileSync(file, 'log_type error\n');
    const quiet = await resolveConfig(parseBrokerArgs(['-c', file]));
    assert.deepEqual(quiet.log.types, ['error']);
    assert.equal(quiet.daemon, false);
    const loud = await resolveConfig(parseBrokerArgs(['-c', file, '-v', '-d']));
    assert.ok(loud.log.types.includes('debug') && loud.log.types.includes('subscribe'));
    assert.equal(loud.verbose, true);
    assert.equal(loud.daemon, true);
  });

  test('a missing -c file is a ConfigError naming it', async () => {
    await assert.rejects(
      resolveConfig(parseBrokerArgs(['-c', join(tmp, 'missing.conf')])),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.file, join(tmp, 'missing.conf'));
        return true;
      },
    );
  });
});
