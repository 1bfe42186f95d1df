import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AclFile } from '../../src/auth/acl.js';
import type { AclAccess } from '../../src/auth/acl-topic.js';
import { AuthFileError } from '../../src/auth/auth-file-error.js';
import { dollarTopicAllowed } from '../../src/auth/dollar-topics.js';
import { ACL_TEXT } from './acl-fixture.js';

const acl = AclFile.parse(ACL_TEXT, 'acl.conf');
const anon = { clientId: 'anon1' };
const alice = { username: 'alice', clientId: 'alice-1' };
const bob = { username: 'bob', clientId: 'bob-1' };
const carol = { username: 'carol', clientId: 'c+1' };
const dave = { username: 'dave', clientId: 'dave-1' };

function expectAll(
  subject: { username?: string; clientId: string },
  access: AclAccess,
  allowed: string[],
  denied: string[],
): void {
  for (const t of allowed)
    assert.equal(acl.check(subject, t, access), true, `${access} ${t} allowed`);
  for (const t of denied)
    assert.equal(acl.check(subject, t, access), false, `${access} ${t} denied`);
}

describe('AclFile semantics (Mosquitto 2 acl_file)', () => {
  test('entries before the first user line apply to anonymous clients only', () => {
    expectAll(anon, 'read', ['public/news', 'public/a/b', 'clients/anon1/x'], ['anon/in', 'other']);
    expectAll(anon, 'write', ['anon/in'], ['public/news', 'anon/in/x']);
    // A named user does not inherit the anonymous section.
    expectAll(dave, 'read', [], ['public/news']);
  });

  test('topic entries default to readwrite; read and write are separate grants', () => {
    expectAll(bob, 'read', ['home/bob/x', 'home/bob'], ['home/alice/a']);
    expectAll(bob, 'write', ['home/bob/x'], []);
    expectAll(
      alice,
      'read',
      ['sensors/kitchen/temp'],
      ['sensors/kitchen/hum', 'sensors/a/b/temp', 'cmd/go'],
    );
    expectAll(alice, 'write', ['cmd/go', 'cmd', 'home/alice/a'], ['sensors/kitchen/temp']);
  });

  test('deny wins over any grant, whatever the order in the file', () => {
    expectAll(alice, 'read', ['home/alice/a'], ['home/alice/private']);
    expectAll(alice, 'write', [], ['home/alice/private']);
    expectAll(bob, 'read', [], ['sensors/kitchen/temp', 'sensors']);
  });

  test('patterns apply to every client, with %c and %u substituted', () => {
    expectAll(
      alice,
      'read',
      ['clients/alice-1/x', 'users/alice/x'],
      ['clients/bob-1/x', 'users/bob/x'],
    );
    expectAll(
      bob,
      'write',
      ['users/bob/out', 'users/bob/x'],
      ['users/bob/locked', 'users/alice/x'],
    );
    expectAll(dave, 'write', ['users/dave/out'], []);
    // %u patterns never match clients without a username; %c ones do.
    expectAll(anon, 'write', [], ['users//x', 'users/%u/x']);
  });

  test('a wildcard in the client id or username disables patterns, not the user section', () => {
    expectAll(carol, 'write', ['carol/only'], ['users/carol/x', 'clients/c+1/x']);
    const hashUser = { username: 'x#', clientId: 'ok' };
    expectAll(hashUser, 'read', [], ['users/x#/a', 'clients/ok/a']);
    // A slash is not refused (Mosquitto 2 only checks + and #): it spans levels.
    expectAll({ username: 'eve', clientId: 'a/b' }, 'read', ['clients/a/b/c'], ['clients/a/c']);
  });

  test('wildcards in ACL topics do not match $ topics; a user without any entry is denied', () => {
    const root = { username: 'admin', clientId: 'adm' };
    expectAll(root, 'read', ['a', 'a/b/c', '/'], ['$SYS/broker/uptime', '$share/g/a']);
    const sys = AclFile.parse('user mon\ntopic read $SYS/#\n', 'acl');
    assert.equal(sys.check({ username: 'mon', clientId: 'm' }, '$SYS/broker/uptime', 'read'), true);
    assert.equal(
      sys.check({ username: 'mon', clientId: 'm' }, '$SYS/broker/uptime', 'write'),
      false,
    );
    assert.equal(sys.check({ username: 'nobody', clientId: 'n' }, 'a', 'read'), false);
  });

  test('subscriptions are accepted and judged per message on delivery, as Mosquitto 2 does', () => {
    expectAll(dave, 'subscribe', ['#', 'home/alice/#', '$SYS/#', '$share/g/x'], []);
  });

  test('strict subscribe mode accepts only filters inside a readable topic', () => {
    const strict = AclFile.parse(ACL_TEXT, 'acl', { subscribe: 'strict' });
    const ok = (s: typeof alice, f: string) => strict.check(s, f, 'subscribe');
    assert.equal(ok(alice, 'home/alice/#'), true);
    assert.equal(ok(alice, 'home/alice/+/x'), true);
    assert.equal(ok(alice, 'home/alice/private'), false);
    assert.equal(ok(alice, 'sensors/+/temp'), true);
    assert.equal(ok(alice, 'sensors/#'), false);
    assert.equal(ok(alice, 'cmd/#'), false, 'write-only');
    assert.equal(ok(alice, '#'), false);
    assert.equal(ok(alice, '$share/g/home/alice/x'), true);
    assert.equal(ok(alice, 'users/alice/+'), true);
  });

  test('$SYS is never writable and $share is never a topic (fixed rules before the ACL)', () => {
    assert.equal(dollarTopicAllowed('$SYS/broker/x', 'write'), false);
    assert.equal(dollarTopicAllowed('$SYS/broker/connection/b1/state', 'write'), true);
    assert.equal(dollarTopicAllowed('$SYS/broker/connection/b1/x/state', 'write'), false);
    assert.equal(dollarTopicAllowed('$SYS/broker/x', 'read'), true);
    assert.equal(dollarTopicAllowed('$share/g/t', 'read'), false);
    assert.equal(dollarTopicAllowed('$share/g/t', 'subscribe'), true);
    assert.equal(dollarTopicAllowed('$other/x', 'write'), true);
    const all = AclFile.parse('topic readwrite $SYS/#\n', 'acl');
    assert.equal(all.check(anon, '$SYS/x', 'write'), false);
  });

  test('a per-connection checker gives the same answers as check()', () => {
    const c = acl.forSubject(alice);
    for (const t of ['home/alice/a', 'home/alice/private', 'users/alice/x', 'other']) {
      for (const a of ['read', 'write'] as const)
        assert.equal(c.check(t, a), acl.check(alice, t, a));
    }
  });
});

describe('AclFile parsing', () => {
  test('field rules follow Mosquitto: spaces separate, a topic may contain spaces', () => {
    const f = AclFile.parse(
      '  # indented comment\n\nuser  spaced name \ntopic read a b/c\ntopic  read\n',
      'acl',
    );
    const s = { username: 'spaced name', clientId: 'x' };
    assert.equal(f.check(s, 'a b/c', 'read'), true);
    assert.equal(f.check(s, 'a b/c', 'write'), false);
    // "topic read" alone grants readwrite on a topic literally called "read".
    assert.equal(f.check(s, 'read', 'write'), true);
  });

  test('a pattern without %c or %u is accepted with a warning', () => {
    const f = AclFile.parse('pattern read x/#\n', 'acl');
    assert.equal(f.warnings.length, 1);
    assert.equal(f.warnings[0]!.line, 1);
  });

  const bad: Array<[string, number]> = [
    ['topic read\nfrobnicate x\n', 2],
    ['user\n', 1],
    ['user bob\ntopic\n', 2],
    ['topic blah a/b\n', 1],
    ['topic READ a/b\n', 1],
    ['topic\tread a\n', 1],
    ['\n\ntopic read a/#/b\n', 3],
    ['topic read a/b+\n', 1],
    ['pattern read %c#\n', 1],
    [`topic read ${'a/'.repeat(201)}a\n`, 1],
  ];
  for (const [text, line] of bad) {
    test(`refuses ${JSON.stringify(text.trim()).slice(0, 40)} naming file and line ${line}`, () => {
      assert.throws(
        () => AclFile.parse(text, '/etc/heron/acl'),
        (err: unknown) =>
          err instanceof AuthFileError && err.file === '/etc/heron/acl' && err.line === line,
      );
    });
  }

  test('an unreadable file is an AuthFileError', async () => {
    await assert.rejects(AclFile.load('/nonexistent/acl'), AuthFileError);
  });
});
