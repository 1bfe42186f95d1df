import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { KEEP_ROOT } from '../helpers/keep-root.js';
import { type ListeningProcess, startHeron as startHeronProcess } from '../helpers/process.js';

/** A `heron -c` process started from configuration lines. */
export type HeronProcess = ListeningProcess;

/** Writes `dir/name.conf` and starts `heron -c` on it; resolves once it listens on every port given. */
export function startHeron(
  dir: string,
  lines: string[],
  port: number | number[],
  name: string,
): Promise<ListeningProcess> {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, `${[...lines, ...KEEP_ROOT].join('\n')}\n`);
  return startHeronProcess(['-c', conf, '-v'], ...[port].flat());
}

/** Connects with MQTT.js; answers the client or the CONNACK refusal code. */
export function connect(
  port: number,
  username: string | undefined,
  password: string | undefined,
  extra: mqtt.IClientOptions = {},
): Promise<MqttClient | number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...extra,
    });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      resolve((err as Error & { code?: number }).code ?? -1);
    });
  });
}

/** A connected client, or an assertion failure naming the refusal. */
export async function client(port: number, user: string, pw: string, clientId?: string) {
  const c = await connect(port, user, pw, clientId !== undefined ? { clientId } : {});
  assert.ok(typeof c !== 'number', `${user} could not connect: ${c}`);
  return c as MqttClient;
}

/** Granted QoS code of one SUBSCRIBE. */
export async function subscribe(c: MqttClient, filter: string): Promise<number> {
  try {
    const granted = await c.subscribeAsync(filter, { qos: 0 });
    return granted[0]!.qos;
  } catch (err) {
    // MQTT.js rejects a refused subscription, with the SUBACK attached.
    return (err as { packet: { granted: number[] } }).packet.granted[0]!;
  }
}

/** Collects topics a client receives. */
export function collect(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (t) => got.push(t));
  return got;
}

/** A round trip through the broker so that earlier deliveries have arrived. */
export async function settle(c: MqttClient): Promise<void> {
  await c.publishAsync('sync/none', 'x', { qos: 1 }).catch(() => {});
  await new Promise((r) => setTimeout(r, 150));
}

/** mosquitto_pub's exit code for one message published with `args` (after -h/-p). */
export function mosquittoPub(port: number, args: string[]): Promise<number> {
  return new Promise<number>((resolve) =>
    execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...args], (err) =>
      resolve(err ? (typeof err.code === 'number' ? err.code : 255) : 0),
    ),
  );
}
