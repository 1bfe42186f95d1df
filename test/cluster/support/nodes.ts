import { type ChildProcess, spawn } from 'node:child_process';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrokerOptions } from '../../../src/broker/options.js';
import type { ClusterOptions } from '../../../src/cluster/options.js';
import { lateBroker, startBroker, type TestBroker } from '../../helpers/broker.js';
import { startRedis, type TestRedis } from './redis.js';

/** Short TTLs so that node failure shows within a test. */
export const NODE_TTL = 900;

let prefixes = 0;

/** A key prefix of its own for each test, so tests sharing one Redis never see each other. */
export function freshPrefix(): string {
  return `t${process.pid}-${++prefixes}:`;
}

/** Starts an in-process broker that joins the cluster under `prefix` as `nodeId`. */
export function startNode(
  redisUrl: string,
  prefix: string,
  nodeId: string,
  options: BrokerOptions = {},
  cluster: Partial<ClusterOptions> = {},
): Promise<TestBroker> {
  return startBroker({
    ...options,
    cluster: {
      redisUrl,
      keyPrefix: prefix,
      nodeId,
      nodeTtl: NODE_TTL,
      handoverTimeout: 1000,
      linkHost: '127.0.0.1',
      ...cluster,
    },
  });
}

/** A Redis and in-process nodes on one key prefix, for the tests of one suite. */
export interface SuiteCluster {
  /** The Redis the nodes share (read inside tests). */
  readonly redisUrl: string;
  /** The nodes' key prefix (read inside tests). */
  readonly prefix: string;
  /** One node per id asked for, in that order. */
  readonly nodes: TestBroker[];
}

/**
 * Starts a Redis and one node per id (on a fresh prefix) before the enclosing suite's
 * tests, and stops them after; read the fields inside tests only.
 */
export function suiteCluster(nodeIds: readonly string[]): SuiteCluster {
  let redis: TestRedis | undefined;
  let prefix: string | undefined;
  let started: TestBroker[] = [];
  before(async () => {
    redis = await startRedis();
    const p = freshPrefix();
    prefix = p;
    const url = redis.url;
    started = await Promise.all(nodeIds.map((id) => startNode(url, p, id)));
  });
  after(async () => {
    await Promise.all(started.map((n) => n.close()));
    await redis?.stop();
  });
  const notYet = 'suiteCluster used outside its suite';
  return {
    get redisUrl() {
      if (redis === undefined) throw new Error(notYet);
      return redis.url;
    },
    get prefix() {
      if (prefix === undefined) throw new Error(notYet);
      return prefix;
    },
    nodes: nodeIds.map((_, i) => lateBroker(() => started[i], notYet)),
  };
}

/** A node in a child process; `kill()` is kill -9. With `store` (a directory) it persists in LMDB. */
export async function spawnNode(
  redisUrl: string,
  prefix: string,
  nodeId: string,
  store?: string,
): Promise<{ url: string; kill(): Promise<void> }> {
  const script = fileURLToPath(new URL('./node-process.js', import.meta.url));
  const args = [script, redisUrl, prefix, nodeId, String(NODE_TTL)];
  if (store !== undefined) args.push(store);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.on('exit', () => child.kill('SIGKILL'));
  const port = await announcedPort(child);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** Whether node `on` knows that node `of` has route `key`. */
export function knowsRoute(on: TestBroker, of: string, key: string): boolean {
  return on.broker.cluster!.remote.nodes.get(of)?.keys.has(key) === true;
}

/** The port a node process prints as its first line (`{"port": N}`) once it listens. */
export function announcedPort(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`node process exited with ${code}`)));
  });
}
