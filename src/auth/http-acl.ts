import { topicMatches } from '../protocol/topic.js';

/** One answer of the web service for one (access, topic) of one client. */
export interface HttpVerdict {
  allowed: boolean;
  /** The service has answered at least once (`allowed` means something). */
  answered: boolean;
  /** When it was answered (ms since the epoch); the question is asked again once this is old. */
  at: number;
  /** The question under way, if any. */
  pending: Promise<boolean> | undefined;
}

/** Answers kept per access kind and client; beyond this the oldest are forgotten. */
const MAX_VERDICTS = 1024;

/**
 * One client's answers from a go-auth HTTP service. The broker judges a
 * delivery synchronously, so read permission is kept per topic and asked in
 * the background; `readFilters` holds what the service said about reading
 * each subscribed filter as a whole, the provisional answer for a topic under
 * it until the topic's own answer arrives.
 */
export class HttpClientAcl {
  /** The user name the answers are for (undefined: anonymous, denied everything as go-auth does). */
  readonly username: string | undefined;
  superuser = false;
  /** When `superuser` was answered (ms since the epoch). */
  superuserAt = 0;
  /** A superuser question is under way. */
  askingSuperuser = false;
  /** Per-topic answers for acc 1 (read), 2 (write), 4 (subscribe), by topic or filter. */
  readonly read = new Map<string, HttpVerdict>();
  readonly write = new Map<string, HttpVerdict>();
  readonly subscribe = new Map<string, HttpVerdict>();
  /** acc 1 answers about subscribed filters (wildcards included), by filter. */
  readonly readFilters = new Map<string, boolean>();

  constructor(username: string | undefined) {
    this.username = username;
  }

  /** The answer a delivery on `topic` gets before the service has answered for that topic. */
  provisionalRead(topic: string): boolean {
    for (const [filter, allowed] of this.readFilters)
      if (allowed && topicMatches(filter, topic)) return true;
    return false;
  }
}

/** Files an answer (or a pending question) in a bounded map, forgetting the oldest entry when full. */
export function verdictFor(map: Map<string, HttpVerdict>, key: string): HttpVerdict {
  let v = map.get(key);
  if (v === undefined) {
    if (map.size >= MAX_VERDICTS) map.delete(map.keys().next().value!);
    v = { allowed: false, answered: false, at: 0, pending: undefined };
    map.set(key, v);
  }
  return v;
}

/** Bounds the filter answers as the verdict maps are bounded. */
export function rememberFilter(map: Map<string, boolean>, filter: string, allowed: boolean): void {
  map.delete(filter);
  if (map.size >= MAX_VERDICTS) map.delete(map.keys().next().value!);
  map.set(filter, allowed);
}
