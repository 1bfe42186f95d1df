import type { Message } from '../broker/message.js';
import { isValidTopicFilter, isValidTopicName } from '../protocol/topic.js';
import type { ApiContext } from './api-context.js';
import { HttpError } from './http-error.js';
import { paginate } from './paging.js';
import { retainedView } from './views.js';

/** Default and largest retained payload preview in bytes. */
const PREVIEW_DEFAULT = 256;
const PREVIEW_MAX = 1024 * 1024;

/** GET /topics: retained messages matching a filter, sorted by topic. */
export function listTopics({ broker, query }: ApiContext): unknown {
  const filter = query.get('filter') || '#';
  if (!isValidTopicFilter(filter)) throw new HttpError(400, `invalid topic filter '${filter}'`);
  const raw = query.get('preview');
  let preview = PREVIEW_DEFAULT;
  if (raw !== null && raw !== '') {
    if (!/^\d+$/.test(raw) || Number(raw) > PREVIEW_MAX) {
      throw new HttpError(400, `'preview' must be an integer from 0 to ${PREVIEW_MAX}`);
    }
    preview = Number(raw);
  }
  const found: Message[] = [];
  broker.retained.match(filter, found);
  const now = Date.now();
  found.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  const page = paginate(
    found,
    query,
    (m) => !m.isExpired(now),
    (m) => retainedView(m, preview),
  );
  return { filter, ...page };
}

/**
 * DELETE /topics?topic=T: removes one retained message the way MQTT does (an empty
 * retained PUBLISH), so stores, cluster peers and subscribers all see it go.
 */
export function deleteRetained({ broker, query }: ApiContext): unknown {
  const topic = query.get('topic') ?? '';
  if (!isValidTopicName(topic)) throw new HttpError(400, "'topic' must be a topic name");
  if (topic.startsWith('$SYS/')) {
    throw new HttpError(400, '$SYS topics belong to the broker and are republished');
  }
  if (broker.retained.get(topic) === undefined) {
    throw new HttpError(404, `no retained message on '${topic}'`);
  }
  broker.publish({ topic, payload: Buffer.alloc(0), qos: 0, retain: true });
  return { topic, deleted: true };
}

/** Retained messages under `$SYS/`, counted apart from the application's own. */
export function sysRetainedCount(broker: ApiContext['broker']): number {
  const found: Message[] = [];
  broker.retained.match('$SYS/#', found);
  return found.length;
}
