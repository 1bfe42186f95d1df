// Runs the ACL fixture in a real mosquitto and checks that every message each
// client may (or may not) receive and publish is what AclFile.check decides.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AclFile } from '../../src/auth/acl.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { ACL_TEXT, type MatrixSubject, SUBJECTS, TOPICS } from './acl-fixture.js';
import {
  type MosquittoBroker,
  publish,
  scratchDir,
  startMosquitto,
  subscribe,
} from './mosquitto-helpers.js';

const USERS = ['alice', 'bob', 'carol', 'dave', 'admin'];

function credentials(s: MatrixSubject): string[] {
  const auth = s.username === undefined ? [] : ['-u', s.username, '-P', `${s.username}-pw`];
  return ['-i', s.clientId, ...auth];
}

const ADMIN: MatrixSubject = { username: 'admin', clientId: 'observer' };

function label(s: MatrixSubject): string {
  return `${s.username ?? '(anonymous)'}/${s.clientId}`;
}

describe('the ACL matrix in a real mosquitto equals AclFile.check', () => {
  const acl = AclFile.parse(ACL_TEXT, 'acl');
  let dir: string;
  let cleanup: () => Promise<void>;
  let broker: MosquittoBroker;

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    const pwfile = join(dir, 'passwd');
    const aclfile = join(dir, 'acl');
    await writeFile(pwfile, USERS.map((u) => `${u}:${hashPassword(`${u}-pw`)}\n`).join(''), {
      mode: 0o600,
    });
    await writeFile(aclfile, ACL_TEXT);
    broker = await startMosquitto(dir, [
      `password_file ${pwfile}`,
      `acl_file ${aclfile}`,
      'allow_anonymous true',
    ]);
  });
  after(async () => {
    await broker?.stop();
    await cleanup();
  });

  test('read: what each client receives on a "#" subscription', async () => {
    const subs = await Promise.all(
      SUBJECTS.map((s) => subscribe(broker.port, credentials(s), '#')),
    );
    try {
      // Mosquitto 2 grants every subscription; the ACL filters each delivery.
      for (const sub of subs) assert.equal(sub.granted(), '1');
      for (const topic of TOPICS) {
        const res = await publish(broker.port, [
          ...credentials(ADMIN),
          '-q',
          '1',
          '-t',
          topic,
          '-m',
          topic,
        ]);
        assert.equal(res.code, 0, res.stderr);
      }
      await new Promise((r) => setTimeout(r, 400));
    } finally {
      await Promise.all(subs.map((s) => s.stop()));
    }
    SUBJECTS.forEach((subject, i) => {
      const received = new Set(subs[i]!.messages().map((m) => m.split('|')[0]));
      const expected = new Set(TOPICS.filter((t) => acl.check(subject, t, 'read')));
      assert.deepEqual(received, expected, `read by ${label(subject)}`);
    });
  });

  test('write: what each client manages to publish', async () => {
    const observer = await subscribe(
      broker.port,
      credentials({ ...ADMIN, clientId: 'observer-w' }),
      '#',
    );
    try {
      // One chain per client: the same client id twice at once would take over the session.
      await Promise.all(
        SUBJECTS.map(async (subject) => {
          for (const topic of TOPICS) {
            const res = await publish(broker.port, [
              ...credentials(subject),
              '-q',
              '1',
              '-t',
              topic,
              '-m',
              subject.clientId,
            ]);
            assert.equal(res.code, 0, `${label(subject)} ${topic}: ${res.stderr}`);
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 400));
    } finally {
      await observer.stop();
    }
    const seen = new Set(observer.messages());
    for (const subject of SUBJECTS) {
      const published = TOPICS.filter((t) => seen.has(`${t}|${subject.clientId}`));
      const expected = TOPICS.filter((t) => acl.check(subject, t, 'write'));
      assert.deepEqual(published, expected, `written by ${label(subject)}`);
    }
  });
});
