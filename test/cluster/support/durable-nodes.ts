import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { announcedPort } from './nodes.js';

/** What a durable node process is started with. */
export interface DurableNodeConfig {
  redisUrl: string;
  prefix: string;
  nodeId: string;
  nodeTtl: number;
  /** The cluster's hand-over timeout, ms (default 2000). */
  handoverTimeout?: number;
  /** Its LMDB directory: the same one on every start of this node. */
  dir: string;
  /** Seconds between `$SYS` updates (0, the default here: none). */
  sysInterval?: number;
}

/** A durable node in a child process. */
export interface DurableNode {
  url: string;
  /** kill -9. */
  kill(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the process. */
  freeze(on: boolean): void;
}

/** Starts a node with an LMDB store in a child process; resolves once it listens. */
export async function spawnDurableNode(c: DurableNodeConfig): Promise<DurableNode> {
  const script = fileURLToPath(new URL('./durable-node.js', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(c)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const port = await announcedPort(child);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    freeze: (on) => {
      child.kill(on ? 'SIGSTOP' : 'SIGCONT');
    },
    kill: () =>
      new Promise<void>((resolve) => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
