import { ReasonCode } from '../../protocol/constants.js';
import type { Decoder } from '../../protocol/decoder.js';
import type { ConnectionInfo } from '../../transport/connection-info.js';
import type { ChannelHost } from './context.js';
import { State } from './state.js';

/** What the sweeper's checks read of a connection (Channel implements it). */
export interface TimedChannel {
  readonly broker: ChannelHost;
  readonly state: State;
  readonly info: ConnectionInfo;
  readonly decoder: Decoder;
  readonly clientId: string;
  readonly keepalive: number;
  readonly openedAt: number;
  readonly lastActivity: number;
  /** Reading stopped because the client does not read what it is owed. */
  readonly readingStoppedForOutput: boolean;
  /** Reading stopped by backpressure from full subscriber queues (its silence is ours). */
  readonly heldByBackpressure: boolean;
  /** Bytes the client has not been sent yet. */
  readonly unsentBytes: number;
  close(why: string): void;
  disconnectWith(reasonCode: number, why: string): void;
}

/** Enforces the connect timeout and keep alive on one connection. Returns true if it was closed. */
export function checkTimers(ch: TimedChannel, now: number): boolean {
  const b = ch.broker;
  if (ch.state === State.Connecting) {
    if (now - ch.openedAt <= b.options.connectTimeout * 1000) return false;
    b.stats.connectTimeouts++;
    // Silent sockets and slowloris CONNECTs end here: say who, and how far they got.
    const received = ch.decoder.bufferedBytes;
    const why =
      received === 0
        ? 'no CONNECT within connect timeout (nothing received)'
        : `no CONNECT within connect timeout (${received} bytes of it received)`;
    b.log?.info({ remote: ch.info.remoteAddress, port: ch.info.remotePort }, why);
    ch.close(why);
    return true;
  }
  // [MQTT-3.1.2-24] 1.5 times the keep alive without a packet: disconnect.
  if (
    ch.state !== State.Connected ||
    ch.keepalive === 0 ||
    ch.heldByBackpressure ||
    now - ch.lastActivity <= ch.keepalive * 1500
  )
    return false;
  if (ch.readingStoppedForOutput) {
    // We stopped reading it because it does not read what we owe it: its
    // PINGREQs may be waiting unread, so the keep alive says nothing. It is a
    // slow consumer (v5: DISCONNECT 0x97 Quota exceeded).
    b.stats.slowConsumers++;
    const why = `slow consumer: ${ch.unsentBytes} bytes unread for ${Math.round((now - ch.lastActivity) / 1000)} s`;
    b.log?.warn({ clientId: ch.clientId, remote: ch.info.remoteAddress }, why);
    ch.disconnectWith(ReasonCode.QuotaExceeded, why);
    return true;
  }
  b.stats.keepaliveTimeouts++;
  ch.disconnectWith(ReasonCode.KeepAliveTimeout, 'keep alive timeout');
  return true;
}
