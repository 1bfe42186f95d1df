/** Runs a headless Node-RED on loopback with a temporary userDir and deploys flows through its admin HTTP API. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running Node-RED. */
export interface NodeRed {
  readonly url: string;
  /** Replaces every flow (a full deploy) and resolves once Node-RED accepted them. */
  deploy(flows: unknown[]): Promise<void>;
  /** POSTs JSON to an http-in endpoint of the deployed flows; resolves with the response body. */
  post(path: string, body: unknown): Promise<string>;
  /** Kills the process without a goodbye (its MQTT connections drop: wills are due). */
  kill(): Promise<void>;
  /** Stops it and removes its userDir. */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts Node-RED (the devDependency) and waits until its admin API answers. */
export async function startNodeRed(): Promise<NodeRed> {
  const userDir = mkdtempSync(join(tmpdir(), 'heron-nodered-'));
  const port = await freePort();
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  credentialSecret: false,
  httpNodeRoot: '/',
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  telemetry: { enabled: false },
};
`,
  );
  const red = createRequire(import.meta.url).resolve('node-red/red.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [red, '--userDir', userDir, '--settings', join(userDir, 'settings.js'), '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  // Node-RED takes seconds to load its nodes on a busy machine: wait for its admin API.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited:\n${log}`);
    try {
      const r = await fetch(`${url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error(`Node-RED did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url,
    async deploy(flows) {
      const r = await fetch(`${url}/flows`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(flows),
      });
      if (!r.ok) throw new Error(`deploy failed: ${r.status} ${await r.text()}\n${log}`);
    },
    async post(path, body) {
      const r = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
      return r.text();
    },
    kill: () => stopWith('SIGKILL'),
    async stop() {
      await stopWith('SIGTERM');
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
