import type { Counter, Registry } from 'prom-client';
import type { Broker } from '../broker/broker.js';
import type { ClientInfo } from '../broker/options.js';
import { prom } from './prom.js';

/**
 * Metrics labelled by listener (`listener="mqtt:1883"`): connections accepted,
 * clients connected and sockets open on each, and messages in and out. The
 * connection counter follows the broker's clientConnected event (once per
 * CONNECT, never per message); the gauges walk the open connections and the
 * message counters copy the broker's per-listener counts, when scraped.
 */
export class ListenerMetrics {
  private readonly broker: Broker;
  private readonly accepted: Counter<'listener'>;
  private readonly onConnected: (c: ClientInfo) => void;

  constructor(broker: Broker, registry: Registry, prefix: string) {
    const { Counter, Gauge } = prom();
    this.broker = broker;
    const names = (): string[] => broker.addresses().map((a) => a.name);
    this.accepted = new Counter({
      name: `${prefix}listener_connections_total`,
      help: 'Client connections accepted (CONNACK 0) since start, by listener.',
      labelNames: ['listener'],
      registers: [registry],
    });
    // Every listener appears from the first scrape, at 0, so rate() has a start.
    for (const name of names()) this.accepted.inc({ listener: name }, 0);
    this.onConnected = (c) => this.accepted.inc({ listener: c.listener });
    broker.on('clientConnected', this.onConnected);
    const count = (connectedOnly: boolean): Map<string, number> => {
      const by = new Map<string, number>(names().map((n) => [n, 0]));
      for (const ch of broker.channels) {
        if (connectedOnly && !ch.connected) continue;
        by.set(ch.info.listener, (by.get(ch.info.listener) ?? 0) + 1);
      }
      return by;
    };
    const messages = (name: string, help: string, key: 'publishReceived' | 'publishSent') =>
      new Counter({
        name: `${prefix}listener_${name}`,
        help,
        labelNames: ['listener'],
        registers: [registry],
        collect() {
          this.reset();
          for (const n of names()) this.inc({ listener: n }, 0);
          for (const [listener, s] of broker.stats.listeners.entries())
            this.inc({ listener }, s[key]);
        },
      });
    messages(
      'messages_received_total',
      'PUBLISH packets received from clients since start, by listener.',
      'publishReceived',
    );
    messages(
      'messages_sent_total',
      'PUBLISH packets sent to clients since start, by listener.',
      'publishSent',
    );
    new Gauge({
      name: `${prefix}listener_clients_connected`,
      help: 'Clients connected (past CONNACK), by listener.',
      labelNames: ['listener'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [listener, n] of count(true)) this.set({ listener }, n);
      },
    });
    new Gauge({
      name: `${prefix}listener_connections_open`,
      help: 'Open network connections, including those not yet past CONNECT, by listener.',
      labelNames: ['listener'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [listener, n] of count(false)) this.set({ listener }, n);
      },
    });
  }

  /** Stops following the broker's events. */
  close(): void {
    this.broker.off('clientConnected', this.onConnected);
  }
}
