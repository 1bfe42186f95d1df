import { connect, type IClientOptions, type MqttClient } from 'mqtt';

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
  /** Session Present of the CONNACK. */
  sessionPresent: boolean;
}

/** Connects an MQTT.js client (no automatic reconnect) that records every message. */
export async function connectRecorder(url: string, opts: IClientOptions = {}): Promise<Recorder> {
  const client = connect(url, { reconnectPeriod: 0, ...opts });
  // Listening before CONNACK: messages of a resumed session can arrive in the same chunk.
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
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', (ack) => resolve(ack.sessionPresent));
    client.once('error', reject);
  });
  return { client, got, sessionPresent };
}

/** Waits a little so that any duplicate or stray message would have arrived. */
export function settle(ms = 150): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
