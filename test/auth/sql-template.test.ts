import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSqlTemplate, escapeLike } from '../../src/auth/sql-template.js';
import { ConfigError } from '../../src/config/config-error.js';

test("auth-plug's '%s' and %d become placeholders, in sprintf's argument order", () => {
  assert.deepEqual(
    compileSqlTemplate(
      "SELECT topic FROM acls WHERE (username = '%s') AND (rw >= %d)",
      'printf',
      ['username', 'access'],
      'auth_opt_aclquery',
    ),
    {
      sql: 'SELECT topic FROM acls WHERE (username = ?) AND (rw >= ?)',
      args: ['username', 'access'],
    },
  );
  assert.deepEqual(
    compileSqlTemplate(
      "SELECT pw FROM users WHERE username = '%s' AND clientid = '%s' LIMIT 1",
      'printf',
      ['username', 'clientid'],
      'q',
    ).args,
    ['username', 'clientid'],
  );
});

test('a conversion inside a longer literal becomes CONCAT; %% stays a percent sign', () => {
  assert.deepEqual(
    compileSqlTemplate(
      "SELECT pw FROM u WHERE name = 'dev_%s' AND note LIKE 'a%%'",
      'printf',
      ['username'],
      'q',
    ),
    {
      sql: "SELECT pw FROM u WHERE name = CONCAT('dev_', ?) AND note LIKE 'a%'",
      args: ['username'],
    },
  );
});

test("go-auth's ? placeholders are counted outside quoted text only", () => {
  assert.deepEqual(
    compileSqlTemplate(
      "SELECT topic FROM acl WHERE username = ? AND note <> '?' AND rw >= ?",
      '?',
      ['username', 'access'],
      'q',
    ),
    {
      sql: "SELECT topic FROM acl WHERE username = ? AND note <> '?' AND rw >= ?",
      args: ['username', 'access'],
    },
  );
});

test('templates asking for more values than the plugin supplies, or unknown conversions, are config errors', () => {
  assert.throws(
    () =>
      compileSqlTemplate(
        "SELECT 1 WHERE a = '%s' AND b = '%s'",
        'printf',
        ['username'],
        'auth_opt_superquery',
      ),
    (e: unknown) => e instanceof ConfigError && e.option === 'auth_opt_superquery',
  );
  assert.throws(() => compileSqlTemplate("SELECT '%x'", 'printf', ['username'], 'q'), ConfigError);
  assert.throws(() => compileSqlTemplate("SELECT 'open", 'printf', ['username'], 'q'), ConfigError);
});

test('values that are the pattern of a LIKE are marked for escaping, in the forms people write', () => {
  const like = (t: string, style: 'printf' | '?') =>
    compileSqlTemplate(t, style, ['username', 'clientid', 'access'], 'q').likeArgs;
  assert.deepEqual(like("SELECT pw FROM users WHERE username LIKE '%s'", 'printf'), [0]);
  assert.deepEqual(like('SELECT pw FROM users WHERE username like %s', 'printf'), [0]);
  assert.deepEqual(like("SELECT pw FROM u WHERE name NOT LIKE 'dev_%s'", 'printf'), [0]);
  assert.deepEqual(
    like("SELECT pw FROM u WHERE name LIKE CONCAT('%%', '%s') AND c = '%s'", 'printf'),
    [0],
  );
  assert.deepEqual(like('SELECT pw FROM u WHERE name LIKE ? limit 1', '?'), [0]);
  assert.deepEqual(like('SELECT pw FROM u WHERE c = ? AND name LIKE BINARY ?', '?'), [1]);
  assert.deepEqual(like("SELECT pw FROM u WHERE name LIKE CONCAT('a', ?, ?)", '?'), [0, 1]);
  // The value on the left of LIKE is matched, not a pattern; equality needs nothing.
  assert.equal(like("SELECT pw FROM u WHERE '%s' LIKE name", 'printf'), undefined);
  assert.equal(like('SELECT pw FROM u WHERE username = ?', '?'), undefined);
  // A template with its own ESCAPE character is left as written.
  assert.equal(like("SELECT pw FROM u WHERE name LIKE ? ESCAPE '|'", '?'), undefined);
});

test('escapeLike makes a value match only itself', () => {
  assert.equal(escapeLike('%'), '\\%');
  assert.equal(escapeLike('a_b\\c%'), 'a\\_b\\\\c\\%');
  assert.equal(escapeLike('alice'), 'alice');
});
