import { connect, type MqttClient } from '../../src/client/client.js';
import { parseConfigText } from '../../src/config/parse.js';
import type { BridgeConfig } from '../../src/config/types.js';
import type { PublishPacket } from '../../src/protocol/packets.js';
import { waitFor } from '../helpers/process.js';

/** A `connection` block (after its `connection` and `address` lines) parsed as mosquitto.conf. */
export function bridgeConfig(name: string, ports: number[], body: string): BridgeConfig {
  const text = [
    `connection ${name}`,
    `address ${ports.map((p) => `127.0.0.1:${p}`).join(' ')}`,
    `remote_clientid ${name}`,
    'restart_timeout 1',
    body,
  ].join('\n');
  return parseConfigText(`${text}\n`, `${name}.conf`).bridges[0]!;
}

/** A client that records every message it receives. */
export interface Recorder {
  client: MqttClient;
  messages: PublishPacket[];
  /** Resolves with the first recorded message on `topic` (waiting for it if needed). */
  next(topic: string, ms?: number): Promise<PublishPacket>;
  close(): Promise<void>;
}

/** Connects to `url`, subscribes to `filters` (QoS 1) and records what arrives. */
export async function record(url: string, filters: string[], id?: string): Promise<Recorder> {
  const client = await connect({ url, clientId: id ?? '', reconnect: false });
  const messages: PublishPacket[] = [];
  client.on('message', (_t, _p, packet) => messages.push(packet));
  if (filters.length > 0) await client.subscribe(filters, { qos: 1 });
  return {
    client,
    messages,
    async next(topic, ms = 5000) {
      await waitFor(() => messages.some((m) => m.topic === topic), ms, `a message on ${topic}`);
      return messages.find((m) => m.topic === topic)!;
    },
    close: () => client.end(),
  };
}

/** The payloads recorded on one topic, as strings. */
export function payloads(r: Recorder, topic: string): string[] {
  return r.messages.filter((m) => m.topic === topic).map((m) => m.payload.toString());
}
