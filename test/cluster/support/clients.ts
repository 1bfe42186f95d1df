import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

/** A received message, as a test sees it. */
export interface Got {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  properties: Record<string, unknown> | undefined;
}

/** An MQTT.js client that records what it receives. */
export interface Recorder {
  client: MqttClient;
  got: Got[];
}

/** Connects an MQTT.js client (no automatic reconnect) that records every message. */
export async function connectRecorder(url: string, opts: IClientOptions = {}): Promise<Recorder> {
  const client = await connectAsync(url, { reconnectPeriod: 0, ...opts });
  const got: Got[] = [];
  client.on('message', (topic, payload, packet) => {
    got.push({
      topic,
      payload: payload.toString(),
      qos: packet.qos,
      retain: packet.retain,
      properties: packet.properties as Record<string, unknown> | undefined,
    });
  });
  return { client, got };
}

/** Waits a little so that any duplicate or stray message would have arrived. */
export function settle(ms = 150): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
