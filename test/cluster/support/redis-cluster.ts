import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../../helpers/process.js';

/** One redis-server of a test Redis Cluster. */
export interface ClusterServer {
  port: number;
  /** kill -9: the server and every key it held are gone. */
  kill(): Promise<void>;
  /** SHUTDOWN SAVE: it stops, its keys kept in dump.rdb as with persistence on. */
  shutdown(): Promise<void>;
  /** Starts it again on the same port and node config (its slots), with the keys a shutdown saved. */
  restart(): Promise<void>;
}

/** A throw-away Redis Cluster on loopback. */
export interface TestRedisCluster {
  /** Seed addresses `127.0.0.1:port`, one per server. */
  seeds: string[];
  servers: ClusterServer[];
  /** Runs `redis-cli -p <first port> ...args` and returns its output. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// However the test process ends, no redis-server outlives it.
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}${stdout}`)) : resolve(stdout),
    );
  });
}

/** Starts one cluster-enabled redis-server without persistence; resolves once it accepts connections. */
async function serve(
  dir: string,
  port: number,
  busPort: number,
  nodeTimeout: number,
): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      // Redis 7: the bus port is given, not port + 10000 (which may be taken or out of range).
      '--cluster-port',
      String(busPort),
      // How long a master may be silent before the others fail it over.
      '--cluster-node-timeout',
      String(nodeTimeout),
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--dir',
      dir,
      '--dbfilename',
      `dump-${port}.rdb`,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 5000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
  child.stdout!.resume();
  return child;
}

function end(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    running.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Shape of a test Redis Cluster. */
export interface RedisClusterOptions {
  /** Replicas per master. Default 0. */
  replicas?: number;
  /** cluster-node-timeout, ms. Default 15000 (Redis's). */
  nodeTimeout?: number;
}

/**
 * Starts `masters` cluster-enabled redis-servers (plus their replicas) in a
 * temp directory, joins them with `redis-cli --cluster create` and resolves
 * once every one of them reports cluster_state:ok.
 */
export async function startRedisCluster(
  masters = 3,
  { replicas = 0, nodeTimeout = 15_000 }: RedisClusterOptions = {},
): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'heron-redis-cluster-'));
  const servers: ClusterServer[] = [];
  const children: ChildProcess[] = [];
  const state = (port: number) => run('redis-cli', ['-p', String(port), 'cluster', 'info']);
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort();
      const bus = await freePort();
      children[i] = await serve(dir, port, bus, nodeTimeout);
      servers.push({
        port,
        kill: () => end(children[i]!, 'SIGKILL'),
        shutdown: async () => {
          const exited = new Promise((r) => children[i]!.once('exit', r));
          running.delete(children[i]!);
          // The connection drops as the server exits: that is the expected end of the command.
          await run('redis-cli', ['-p', String(port), 'shutdown', 'save']).catch(() => undefined);
          await exited;
        },
        restart: async () => {
          children[i] = await serve(dir, port, bus, nodeTimeout);
          await waitFor(async () => (await state(port)).includes('cluster_state:ok'), 10_000);
        },
      });
    }
    const seeds = servers.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...seeds,
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    for (const s of servers)
      await waitFor(
        async () => (await state(s.port)).includes('cluster_state:ok'),
        10_000,
        `cluster_state:ok on ${s.port}`,
      );
    // Replicas attached and in sync, so a fail-over has someone to promote.
    const inSync = async (port: number) => {
      const info = await run('redis-cli', ['-p', String(port), 'info', 'replication']);
      if (info.includes('role:slave')) return info.includes('master_link_status:up');
      return Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0) >= replicas;
    };
    // ...and every server lists every replica in CLUSTER SLOTS, which clients read to
    // find them: a replica is left out there until gossip has carried its replication
    // offset, some time after CLUSTER NODES already shows it.
    const knownReplicas = async (port: number) => {
      const nodes = await run('redis-cli', ['-p', String(port), 'cluster', 'nodes']);
      const ids = nodes
        .split('\n')
        .filter((l) => /^\S+ \S+ \S*slave/.test(l))
        .map((l) => l.split(' ')[0]!);
      const slots = await run('redis-cli', ['-p', String(port), 'cluster', 'slots']);
      return ids.filter((id) => slots.includes(id)).length;
    };
    for (const s of servers) {
      await waitFor(() => inSync(s.port), 10_000, `replication on ${s.port}`);
      await waitFor(
        async () => (await knownReplicas(s.port)) === masters * replicas,
        10_000,
        `replicas known to ${s.port}`,
      );
    }
    return {
      seeds,
      servers,
      cli: (...args) => run('redis-cli', ['-p', String(servers[0]!.port), ...args]),
      stop: async () => {
        await Promise.all(children.map((c) => end(c, 'SIGTERM')));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(children.map((c) => end(c, 'SIGKILL')));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
