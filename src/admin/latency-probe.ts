import { randomBytes } from 'node:crypto';
import type { Histogram } from 'prom-client';
import { connect, type MqttClient } from '../client/client.js';

/** Where and how the latency probe connects. */
export interface LatencyProbeOptions {
  /** The broker's own listener to probe, e.g. mqtt://127.0.0.1:1883 (credentials in the URL work). */
  url: string;
  /** Milliseconds between probe messages; default 5000. */
  intervalMs?: number;
}

/**
 * Measures publish→delivery latency the way a client sees it: a real MQTT
 * client on one of the broker's listeners publishes a timestamp to a topic it
 * subscribes to, and the time until the broker hands it back is observed. The
 * topic starts with `$heron/`, which `#` subscriptions never match.
 */
export class LatencyProbe {
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly topic: string;
  readonly clientId: string;

  constructor(
    private readonly histogram: Histogram,
    private readonly options: LatencyProbeOptions,
    private readonly onError: (err: Error) => void,
  ) {
    this.clientId = `heron-latency-probe-${randomBytes(3).toString('hex')}`;
    this.topic = `$heron/latency-probe/${this.clientId}`;
  }

  /** Connects and starts probing; failures are reported to onError, probing stops on a refused CONNECT. */
  async start(): Promise<void> {
    try {
      const c = await connect({
        url: this.options.url,
        clientId: this.clientId,
        protocolVersion: 5,
        keepalive: 60,
        reconnect: { maxDelay: 30_000 },
      });
      if (this.closed) {
        await c.end();
        return;
      }
      this.client = c;
      c.on('message', (_topic, payload) => {
        const sent = Number(payload.toString());
        if (Number.isFinite(sent)) this.histogram.observe((performance.now() - sent) / 1000);
      });
      await c.subscribe(this.topic, { qos: 0 });
    } catch (e) {
      this.onError(e as Error);
      return;
    }
    const send = (): void => {
      if (this.client?.state !== 'connected') return;
      this.client.publish(this.topic, String(performance.now()), { qos: 0 }).catch(() => {});
    };
    send();
    this.timer = setInterval(send, this.options.intervalMs ?? 5000);
    this.timer.unref();
  }

  /** Stops probing and disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.client?.end().catch(() => {});
  }
}
