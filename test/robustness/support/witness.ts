// Well-behaved "witness" clients (MQTT.js, an independent implementation): one
// publisher and one subscriber per pair exchange numbered QoS 0/1/2 messages
// while hostile clients attack the broker; afterwards every message must have
// arrived as its QoS promises, in order, and no witness may have lost its link.
import mqtt, { type MqttClient } from 'mqtt';

/** A publisher/subscriber pair on its own topic tree. */
export class WitnessPair {
  readonly received: [number[], number[], number[]] = [[], [], []];
  readonly sent: [number, number, number] = [0, 0, 0];
  /** Anything that went wrong: link losses, errors, publish failures. */
  readonly problems: string[] = [];
  private sub!: MqttClient;
  private pub!: MqttClient;
  private pending = 0;
  /** QoS 1/2 publishes not yet acknowledged. */
  private inflight = 0;
  private idle: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly url: string,
    readonly name: string,
    readonly version: 4 | 5,
  ) {}

  private open(role: string, clean: boolean): Promise<MqttClient> {
    const c = mqtt.connect(this.url, {
      clientId: `witness-${this.name}-${role}`,
      protocolVersion: this.version,
      clean,
      reconnectPeriod: 0,
      keepalive: 30,
      connectTimeout: 5000,
      ...(this.version === 5 && !clean ? { properties: { sessionExpiryInterval: 300 } } : {}),
    });
    const lost = (what: string) => () => this.problems.push(`${role}: ${what}`);
    c.on('error', (err) => this.problems.push(`${role}: error ${err.message}`));
    return new Promise((resolve, reject) => {
      c.once('connect', () => {
        c.on('close', lost('connection closed'));
        c.on('disconnect', lost('DISCONNECT from the broker'));
        c.on('offline', lost('offline'));
        resolve(c);
      });
      c.once('error', reject);
      c.once('close', () => reject(new Error(`witness ${role}: closed before CONNACK`)));
    });
  }

  /** Connects both clients (the subscriber persistent when `persistent`) and subscribes. */
  async start(persistent = false): Promise<void> {
    this.sub = await this.open('sub', !persistent);
    this.pub = await this.open('pub', true);
    this.sub.on('message', (topic, payload) => {
      const m = /^wit\/[^/]+\/q([012])$/.exec(topic);
      if (m === null) {
        this.problems.push(`sub: unexpected topic ${topic}`);
        return;
      }
      this.received[Number(m[1]) as 0 | 1 | 2].push(Number(payload.toString()));
    });
    const granted = await this.sub.subscribeAsync(`wit/${this.name}/#`, { qos: 2 });
    if (granted[0]?.qos !== 2) throw new Error(`witness ${this.name}: SUBACK ${granted[0]?.qos}`);
  }

  /**
   * Publishes one message of each QoS every `everyMs` until stop(). QoS 1/2
   * publishes wait while `maxInflight` are unacknowledged: a well-behaved client
   * stays within the broker's Receive Maximum (MQTT.js does not enforce it, and
   * with slow disk commits the acknowledgements can lag behind the timer).
   */
  run(everyMs: number, maxInflight: number): void {
    this.timer = setInterval(() => {
      for (const qos of [0, 1, 2] as const) {
        if (qos > 0 && this.inflight >= maxInflight) continue;
        const seq = this.sent[qos]++;
        this.pending++;
        if (qos > 0) this.inflight++;
        this.pub.publish(`wit/${this.name}/q${qos}`, String(seq), { qos }, (err) => {
          if (err) this.problems.push(`pub: QoS ${qos} #${seq} failed: ${err.message}`);
          if (qos > 0) this.inflight--;
          if (--this.pending === 0) this.idle?.();
        });
      }
    }, everyMs);
  }

  /** Stops publishing and waits until every publish completed and the last ones arrived. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.pending > 0)
      await new Promise<void>((r) => {
        this.idle = r;
        setTimeout(r, 8000);
      });
    if (this.pending > 0) this.problems.push(`pub: ${this.pending} publishes never completed`);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && this.received.some((r, q) => r.length < this.sent[q]!))
      await new Promise((r) => setTimeout(r, 20));
  }

  /** Differences from "everything arrived once, in order" (empty when all is well). */
  check(): string[] {
    const out = [...this.problems];
    for (const q of [0, 1, 2] as const) {
      const got = this.received[q];
      const n = this.sent[q];
      let bad = got.length !== n;
      for (let i = 0; !bad && i < n; i++) if (got[i] !== i) bad = true;
      if (bad) {
        const firstBad = got.findIndex((v, i) => v !== i);
        out.push(
          `${this.name} QoS ${q}: sent ${n}, received ${got.length}, first out of order at ${firstBad}`,
        );
      }
    }
    return out;
  }

  /** Whether both clients are still connected. */
  get connected(): boolean {
    return this.sub.connected && this.pub.connected;
  }

  /** Client ids used, for the session checks. */
  get clientIds(): string[] {
    return [`witness-${this.name}-sub`, `witness-${this.name}-pub`];
  }

  /** Disconnects both politely. */
  async end(): Promise<void> {
    this.sub.removeAllListeners('close');
    this.pub.removeAllListeners('close');
    this.sub.removeAllListeners('offline');
    this.pub.removeAllListeners('offline');
    await Promise.all([this.sub.endAsync(), this.pub.endAsync()]);
  }
}
