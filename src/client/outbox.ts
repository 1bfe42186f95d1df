/**
 * Everything the client sent or will send that still awaits an answer: QoS 1/2
 * publishes in flight or waiting for an inflight slot, QoS 0 publishes held while
 * offline, pending SUBSCRIBE/UNSUBSCRIBE, and the granted subscriptions to restore.
 * It never touches a socket: it writes through the {@link OutboxLink} the client gives it.
 */

import { PacketType, type ProtocolVersion } from '../protocol/constants.js';
import { encodePublish } from '../protocol/encoder.js';
import type {
  Packet,
  PublishPacket,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
} from '../protocol/packets.js';
import type { Properties } from '../protocol/properties.js';
import type { PublishAck, PublishCallback } from './client-types.js';
import { PublishError, reasonCodeText } from './errors.js';
import {
  Entry,
  type OutgoingPublish,
  type PendingRequest,
  type QueuedQos0,
  resubscribePackets,
  Step,
  type Tracked,
} from './outgoing.js';
import { PacketIdMap } from './packet-ids.js';

/** How the outbox reaches the connection; the client implements it. */
export interface OutboxLink {
  /** True while a session is established. */
  readonly connected: boolean;
  /** Writes an encoded packet (traced as `packet`). */
  write(buf: Buffer, packet: Packet): void;
  /** Encodes and writes a packet. */
  sendPacket(p: Packet): void;
  /** Writes a success PUBACK/PUBREC/PUBREL/PUBCOMP. */
  sendAck(first: number, type: number, id: number): void;
}

/** The client's outgoing state across connections. */
export class Outbox {
  private readonly tracked = new PacketIdMap<Tracked>();
  /** QoS>0 publishes waiting for an inflight slot (or for the connection). */
  private waiting: OutgoingPublish[] = [];
  private waitingHead = 0;
  private inflight = 0;
  private quota: number;
  private offline: QueuedQos0[] = [];
  /** Granted subscriptions, replayed when a reconnect finds no session. */
  private readonly subscriptions = new Map<string, Subscription & { properties?: Properties }>();

  constructor(
    private readonly link: OutboxLink,
    private readonly version: ProtocolVersion,
    private readonly maxInflight: number,
  ) {
    this.quota = maxInflight;
  }

  /** QoS 1/2 publishes sent and not yet fully acknowledged. */
  get inflightCount(): number {
    return this.inflight;
  }

  /** Publishes held back: waiting for an inflight slot, or for the connection. */
  get queuedCount(): number {
    return this.waiting.length - this.waitingHead + this.offline.length;
  }

  /** Sends a publish now, or holds it until the connection or an inflight slot allows. */
  publish(
    packet: PublishPacket,
    done: PublishCallback | undefined,
    resolve: ((ack: PublishAck | undefined) => void) | undefined,
    reject: ((err: Error) => void) | undefined,
    tag: unknown,
  ): void {
    if (packet.qos === 0) {
      const buffer = encodePublish(packet, this.version).buffer;
      if (this.link.connected) {
        this.link.write(buffer, packet);
        done?.(undefined, packet, undefined);
        resolve?.(undefined);
      } else {
        this.offline.push({
          buffer,
          packet,
          done: resolve ? (_e, _p) => resolve(undefined) : done,
        });
      }
      return;
    }
    const entry: OutgoingPublish = {
      kind: Entry.Publish,
      packet,
      step: packet.qos === 1 ? Step.AwaitPuback : Step.AwaitPubrec,
      done,
      tag,
      resolve,
      reject,
    };
    if (
      this.link.connected &&
      this.inflight < this.quota &&
      this.waitingHead === this.waiting.length
    ) {
      this.transmit(entry);
    } else {
      this.waiting.push(entry);
    }
  }

  /** Sends a SUBSCRIBE or UNSUBSCRIBE (now, or once connected); resolves to its reason codes. */
  request(
    kind: Entry.Subscribe | Entry.Unsubscribe,
    packet: SubscribePacket | UnsubscribePacket,
  ): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const entry: PendingRequest = { kind, packet, sent: false, resolve, reject };
      const id = this.tracked.allocate(entry);
      if (id === 0) {
        reject(new Error('no free packet identifier'));
        return;
      }
      packet.packetId = id;
      if (this.link.connected) {
        entry.sent = true;
        this.link.sendPacket(packet);
      }
    });
  }

  /** Stops restoring these filters after a reconnect (they are being unsubscribed). */
  forget(topics: readonly string[]): void {
    for (const t of topics) this.subscriptions.delete(t);
  }

  /**
   * A CONNACK accepted the connection: adopt the server's receive maximum, restore the
   * session after a reconnect (`sessionPresent` given), then send what waited.
   */
  connected(
    receiveMaximum: number | undefined,
    resume: { sessionPresent: boolean; resubscribe: boolean } | undefined,
  ): void {
    this.quota = Math.min(this.maxInflight, receiveMaximum ?? 65535);
    if (resume !== undefined) this.resume(resume.sessionPresent, resume.resubscribe);
    if (this.offline.length > 0) {
      const q = this.offline;
      this.offline = [];
      for (const m of q) {
        this.link.write(m.buffer, m.packet);
        m.done?.(undefined, m.packet, undefined);
      }
    }
    // Requests made while the first connection was opening.
    for (const e of this.tracked.values()) {
      if (e.kind !== Entry.Publish && !e.sent) {
        e.sent = true;
        this.link.sendPacket(e.packet);
      }
    }
    this.pump();
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the publish is done, successfully or not. */
  acknowledged(id: number, step: Step.AwaitPuback | Step.AwaitPubcomp, ack: PublishAck): void {
    this.complete(id, step, ack);
  }

  /** PUBREC: a QoS 2 publish moves on to PUBREL, or ends if the server refused it. */
  received(id: number, reasonCode: number, ack: PublishAck): void {
    const e = this.tracked.get(id);
    if (e?.kind === Entry.Publish && e.step === Step.AwaitPubrec) {
      if (reasonCode >= 0x80) {
        this.complete(id, Step.AwaitPubrec, ack);
        return;
      }
      e.step = Step.AwaitPubcomp;
    }
    if (e === undefined && this.version === 5) {
      this.link.sendPacket({ type: PacketType.PUBREL, packetId: id, reasonCode: 0x92 });
    } else {
      this.link.sendAck(0x62, PacketType.PUBREL, id);
    }
  }

  /** SUBACK or UNSUBACK: settles the request and remembers granted subscriptions. */
  answered(p: SubackPacket | UnsubackPacket): void {
    const e = this.tracked.get(p.packetId);
    if (e === undefined || e.kind === Entry.Publish) return;
    const expected = p.type === PacketType.SUBACK ? Entry.Subscribe : Entry.Unsubscribe;
    if (e.kind !== expected) return;
    this.tracked.delete(p.packetId);
    if (p.type === PacketType.SUBACK) {
      const sp = e.packet as SubscribePacket;
      for (let i = 0; i < sp.subscriptions.length; i++) {
        const code = p.reasonCodes[i];
        if (code !== undefined && code < 0x80) {
          const s = sp.subscriptions[i];
          this.subscriptions.set(s.topic, { ...s, properties: sp.properties });
        }
      }
    }
    e.resolve?.(p.reasonCodes);
  }

  /** The client is finished: everything still pending fails with `reason`. */
  failAll(reason: Error): void {
    for (const e of this.tracked.drain()) {
      if (e.kind === Entry.Publish) settle(e, reason, undefined);
      else e.reject?.(reason);
    }
    for (let i = this.waitingHead; i < this.waiting.length; i++) {
      settle(this.waiting[i], reason, undefined);
    }
    this.waiting = [];
    this.waitingHead = 0;
    for (const q of this.offline) q.done?.(reason, q.packet, undefined);
    this.offline = [];
    this.inflight = 0;
  }

  /** Gives a publish an id and writes it (caller checked the inflight quota). */
  private transmit(entry: OutgoingPublish): boolean {
    const id = this.tracked.allocate(entry);
    if (id === 0) return false;
    entry.packet.packetId = id;
    this.inflight++;
    this.link.write(encodePublish(entry.packet, this.version).buffer, entry.packet);
    return true;
  }

  /** Sends waiting publishes while the inflight window has room. */
  private pump(): void {
    const w = this.waiting;
    while (this.waitingHead < w.length && this.inflight < this.quota && this.link.connected) {
      if (!this.transmit(w[this.waitingHead])) break;
      w[this.waitingHead++] = undefined as unknown as OutgoingPublish;
    }
    if (this.waitingHead === w.length) {
      this.waiting = [];
      this.waitingHead = 0;
    } else if (this.waitingHead > 1024 && this.waitingHead * 2 > w.length) {
      this.waiting = w.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private complete(id: number, step: Step, ack: PublishAck): void {
    const e = this.tracked.get(id);
    if (e === undefined || e.kind !== Entry.Publish || e.step !== step) return;
    this.tracked.delete(id);
    this.inflight--;
    const err =
      ack.reasonCode >= 0x80
        ? new PublishError(ack.reasonCode, `publish refused: ${reasonCodeText(ack.reasonCode)}`)
        : undefined;
    settle(e, err, ack);
    if (this.waitingHead < this.waiting.length) this.pump();
  }

  /** After a reconnect: replay subscriptions if the session is gone, re-send what is unacknowledged. */
  private resume(sessionPresent: boolean, resubscribe: boolean): void {
    if (!sessionPresent && resubscribe && this.subscriptions.size > 0) {
      for (const packet of resubscribePackets(this.subscriptions.values())) {
        const entry: PendingRequest = {
          kind: Entry.Subscribe,
          packet,
          sent: true,
          resolve: undefined,
          reject: undefined,
        };
        packet.packetId = this.tracked.allocate(entry);
        if (packet.packetId !== 0) this.link.sendPacket(packet);
      }
    }
    let inflight = 0;
    const finished: OutgoingPublish[] = [];
    for (const e of this.tracked.values()) {
      if (e.kind !== Entry.Publish) {
        e.sent = true;
        this.link.sendPacket(e.packet);
        continue;
      }
      if (e.step === Step.AwaitPubcomp) {
        if (sessionPresent) {
          inflight++;
          this.link.sendAck(0x62, PacketType.PUBREL, e.packet.packetId);
        } else {
          // The server received it (PUBREC) and has since forgotten the exchange.
          finished.push(e);
        }
        continue;
      }
      inflight++;
      e.packet.dup = true;
      this.link.write(encodePublish(e.packet, this.version).buffer, e.packet);
    }
    this.inflight = inflight;
    for (const e of finished) {
      this.tracked.delete(e.packet.packetId);
      settle(e, undefined, undefined);
    }
  }
}

function settle(e: OutgoingPublish, err: Error | undefined, ack: PublishAck | undefined): void {
  e.done?.(err, e.packet, e.tag);
  if (err !== undefined) e.reject?.(err);
  else e.resolve?.(ack);
}
