// The broker's logger as an operator reads it: text lines (without pino) and
// log_format json (pino), written to a real log file, and $SYS log topics.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, TopicLogSink } from '../../src/log/logger.js';

function tempLog(): { file: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'heron-log-'));
  return { file: join(dir, 'sub', 'heron.log'), done: () => rmSync(dir, { recursive: true }) };
}

test('text log file: Mosquitto-style lines, written before the call returns, with levels, errors and multi-line events', () => {
  const t = tempLog();
  try {
    const log = createLogger({
      level: 'info',
      destinations: [{ kind: 'file', path: t.file }],
      format: 'text',
      timestamp: true,
    });
    log.info('New connection from 127.0.0.1:5000 on port 1883.');
    log.debug('not written at level info');
    log.warn({ clientId: 'c1' }, 'Client c1 has exceeded timeout, disconnecting.');
    log.error({ err: new Error('EACCES') }, 'store commit failed');
    log.error(new Error('only an error'));
    log.info('first\nsecond');
    const lines = readFileSync(t.file, 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.ok(
      lines.every((l) => /^\d{10}: /.test(l)),
      lines.join('\n'),
    );
    assert.deepEqual(
      lines.map((l) => l.replace(/^\d+: /, '')),
      [
        'New connection from 127.0.0.1:5000 on port 1883.',
        'Warning: Client c1 has exceeded timeout, disconnecting.',
        'Error: store commit failed (EACCES)',
        'Error: only an error',
        'first',
        'second',
      ],
    );
    assert.equal(log.isLevelEnabled('debug'), false);
    assert.equal(log.isLevelEnabled('warn'), true);
  } finally {
    t.done();
  }
});

test('log_format json: one JSON object per line from pino, the error serialized', () => {
  const t = tempLog();
  try {
    const log = createLogger({
      level: 'info',
      destinations: [{ kind: 'file', path: t.file }],
      format: 'json',
      timestamp: true,
    });
    log.info('Opening ipv4 listen socket on port 1883.');
    log.error({ err: new Error('boom') }, 'listener error');
    const recs = readFileSync(t.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } });
    assert.deepEqual(
      recs.map((r) => [r.level, r.msg, r.err?.message]),
      [
        [30, 'Opening ipv4 listen socket on port 1883.', undefined],
        [50, 'listener error', 'boom'],
      ],
    );
  } finally {
    t.done();
  }
});

test('log_dest topic: each line goes to $SYS/broker/log/<letter>, in text and json formats', () => {
  for (const format of ['text', 'json'] as const) {
    const sink = new TopicLogSink();
    const got: string[] = [];
    sink.publish = (topic, line) => got.push(`${topic} ${line}`);
    const log = createLogger({
      level: 'debug',
      destinations: [{ kind: 'topic', sink }],
      format,
      timestamp: true,
    });
    log.debug('d');
    log.info('a\nb');
    log.warn('w');
    log.error('e');
    assert.deepEqual(
      got,
      [
        '$SYS/broker/log/D d',
        '$SYS/broker/log/N a',
        '$SYS/broker/log/N b',
        '$SYS/broker/log/W w',
        '$SYS/broker/log/E e',
      ],
      format,
    );
  }
});

test('log_dest none: a silent logger, which the broker drops', () => {
  const log = createLogger({ level: 'info', destinations: [], format: 'text', timestamp: true });
  assert.equal(log.level, 'silent');
});
