import type { MqttClient } from '../client/client.js';

/**
 * The bridge's side of the broker's flow gate (broker/flow-gate.ts): when a
 * message from the remote broker fills a local subscriber's queue, the bridge
 * stops reading the remote connection until the queue drains, as a client
 * connection would be stopped. The remote broker then holds its messages
 * instead of the bridge dropping them after its client acknowledged them.
 * The holds outlive a reconnect: a new connection starts paused after CONNACK.
 */
export class RemoteInput {
  private held = false;
  private client: MqttClient | undefined = undefined;

  /** The bridge opened a new connection to the remote broker. */
  attach(client: MqttClient): void {
    this.client = client;
    if (this.held) client.pauseInput();
  }

  /** A full local queue: stop reading the remote. */
  holdInput(): void {
    this.held = true;
    this.client?.pauseInput();
  }

  /** Every queue that held the bridge drained or gave up: read on. */
  releaseInput(): void {
    this.held = false;
    this.client?.resumeInput();
  }
}
