import { isValidTopicFilter } from '../protocol/topic.js';
import type { ApiContext } from './api-context.js';
import { HttpError } from './http-error.js';
import { readJsonBody } from './http-json.js';
import type { Trace } from './trace.js';

function traceView(t: Trace): unknown {
  return { id: t.id, kind: t.kind, value: t.value, skipped: t.skipped };
}

/** POST /traces {kind: 'client'|'topic', value}: starts a trace. */
export async function startTrace({ traces, req, maxBodyBytes }: ApiContext): Promise<unknown> {
  const body = (await readJsonBody(req, maxBodyBytes)) as Record<string, unknown> | null;
  const kind = body?.kind;
  const value = body?.value;
  if (kind !== 'client' && kind !== 'topic') {
    throw new HttpError(400, "'kind' must be 'client' or 'topic'");
  }
  if (typeof value !== 'string' || value === '') {
    throw new HttpError(400, "'value' must be a client id or a topic filter");
  }
  if (kind === 'topic' && !isValidTopicFilter(value)) {
    throw new HttpError(400, `invalid topic filter '${value}'`);
  }
  try {
    return traceView(traces.start(kind, value));
  } catch (e) {
    throw new HttpError(429, (e as Error).message);
  }
}

/** GET /traces: the traces running. */
export function listTraces({ traces }: ApiContext): unknown {
  return { items: traces.list().map(traceView) };
}

/** GET /traces/:id?after=N: lines after sequence number N. */
export function readTrace({ traces, id, query }: ApiContext): unknown {
  const t = traces.get(id);
  if (t === undefined) throw new HttpError(404, `no trace '${id}' (ended or expired)`);
  const raw = query.get('after') ?? '0';
  if (!/^\d+$/.test(raw)) throw new HttpError(400, "'after' must be a sequence number");
  return { ...(traceView(t) as object), lines: t.since(Number(raw)) };
}

/** DELETE /traces/:id: ends a trace. */
export function stopTrace({ traces, id }: ApiContext): unknown {
  if (!traces.stop(id)) throw new HttpError(404, `no trace '${id}'`);
  return { id, stopped: true };
}
