/** MQTT.js connection and message helpers shared by the interop tests. */
import mqtt, { type MqttClient } from 'mqtt';

/** Connects MQTT.js (v5 unless told otherwise, never reconnecting); rejects on a connect error. */
export function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** The next message the client receives. */
export function nextMessage(
  c: MqttClient,
): Promise<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }> {
  return new Promise((resolve) =>
    c.once('message', (topic, payload, packet) => resolve({ topic, payload, packet })),
  );
}
