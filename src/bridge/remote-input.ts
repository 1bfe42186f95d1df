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
  private holds = 0;
  private client: MqttClient | undefined = undefined;

  /** The bridge opened a new connection to the remote broker. */
  attach(client: MqttClient): void {
    this.client = client;
    if (this.holds > 0) client.pauseInput();
  }

  /** A full local queue: stop reading the remote (counted, one release per hold). */
  holdInput(): void {
    if (this.holds++ === 0) this.client?.pauseInput();
  }

  /** That queue drained or gave up: read on once no other full queue holds the bridge. */
  releaseInput(): void {
    if (this.holds === 0 || --this.holds > 0) return;
    this.client?.resumeInput();
  }
}
