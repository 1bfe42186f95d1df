import type { Message } from '../broker/message.js';
import { type ClusterFrame, decodeFrame, encodeMessage, frame } from './frame.js';
import type { ClusterHost } from './host.js';
import type { RedisClient } from './redis-conn.js';

function ignore(): void {}

/** Uploads a retained message only this node had, and tells the others, unless Redis has one. */
const UPLOAD = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('PUBLISH', ARGV[3], ARGV[2])
end
return 0`;

/**
 * Retained messages shared through Redis: one hash plus a notification
 * channel, written in one MULTI so that every node applies updates in Redis
 * order and ends with the value Redis kept (last writer wins).
 */
export class RetainedSync {
  /** The Redis hash of retained messages. */
  readonly key: string;
  /** The channel retained updates are announced on. */
  readonly channel: string;
  private readonly host: ClusterHost;
  private readonly nodeId: string;
  /** The last update's message and encodings, reused by the forward of the same message. */
  lastMsg: Message | undefined;
  lastPacket: Buffer | undefined;
  lastFrame: Buffer | undefined;

  constructor(host: ClusterHost, nodeId: string, prefix: string) {
    this.host = host;
    this.nodeId = nodeId;
    this.key = `${prefix}retained`;
    this.channel = `${prefix}retained`;
  }

  /** Loads the shared set and uploads retained messages only this node had (e.g. from its store). */
  async load(cmd: RedisClient): Promise<void> {
    const host = this.host;
    const all = await cmd.hgetallBuffer(this.key);
    const now = Date.now();
    const seen = new Set<string>();
    for (const [topic, buf] of Object.entries(all)) {
      seen.add(topic);
      let f: ClusterFrame;
      try {
        f = decodeFrame(buf);
      } catch (err) {
        host.log?.warn({ err, topic }, 'cluster: undecodable retained message in redis');
        continue;
      }
      if (f.expiresAt !== 0 && now >= f.expiresAt) {
        cmd.hdel(this.key, topic).catch(ignore);
        continue;
      }
      this.apply(f);
    }
    const local: Message[] = [];
    host.matchRetained('#', local);
    for (const msg of local) {
      if (seen.has(msg.topic) || msg.isExpired(now)) continue;
      const f = frame(this.nodeId, msg.origin, msg.expiresAt, undefined, encodeMessage(msg));
      cmd.eval(UPLOAD, 1, this.key, msg.topic, f, this.channel).catch(ignore);
    }
  }

  /** A local publish changed a retained message: store it in Redis and tell every node. */
  changed(cmd: RedisClient, msg: Message, key: string, failed: () => void): void {
    const packet = encodeMessage(msg);
    const f = frame(this.nodeId, msg.origin, msg.expiresAt, undefined, packet, key);
    this.lastMsg = msg;
    this.lastPacket = packet;
    this.lastFrame = f;
    const m = cmd.multi();
    if (msg.payload.length === 0) m.hdel(this.key, msg.topic);
    else m.hset(this.key, msg.topic, f);
    m.publish(this.channel, f);
    m.exec().catch(failed);
  }

  /**
   * Applies a retained update in Redis order. Own updates are applied too:
   * when two nodes write one topic at once, every node ends with the value
   * Redis kept.
   */
  apply(f: ClusterFrame): void {
    const host = this.host;
    const cur = host.retainedMessage(f.topic);
    if (f.payload.length === 0) {
      if (cur === undefined) return;
    } else if (
      cur !== undefined &&
      cur.origin === f.origin &&
      cur.qos === f.qos &&
      cur.expiresAt === f.expiresAt &&
      cur.payload.equals(f.payload)
    ) {
      return;
    }
    host.setRetained(
      host.makeMessage(f.topic, f.payload, f.qos, true, f.properties, f.origin, f.expiresAt),
    );
  }
}
