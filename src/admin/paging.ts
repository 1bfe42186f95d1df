import { HttpError } from './http-error.js';

/** A slice of a listing: `total` counts every item that passed the filter. */
export interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

/** Largest page a client may ask for. */
const MAX_PAGE = 1000;

function intParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `'${name}' must be a non-negative integer`);
  const n = Number(raw);
  if (n > max) throw new HttpError(400, `'${name}' must be at most ${max}`);
  return n;
}

/**
 * Pages through `source`, keeping items `accept` passes and mapping only those on
 * the page (`offset` and `limit` from the query string, default 0 and 100).
 */
export function paginate<S, T>(
  source: Iterable<S>,
  query: URLSearchParams,
  accept: (item: S) => boolean,
  view: (item: S) => T,
): Page<T> {
  const offset = intParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(query, 'limit', 100, MAX_PAGE);
  const items: T[] = [];
  let total = 0;
  for (const item of source) {
    if (!accept(item)) continue;
    if (total >= offset && items.length < limit) items.push(view(item));
    total++;
  }
  return { total, offset, limit, items };
}
