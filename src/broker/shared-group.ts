/**
 * One `$share/{group}/{filter}` subscription group: its members and the strategy
 * that picks which single member receives each message. Members live in an array
 * in join order, so every strategy reduces to "a starting index, then walk forward
 * past members the broker refuses", and `pick` allocates nothing.
 */

/** How a shared group spreads messages over its members. */
export type ShareStrategy = 'round_robin' | 'random' | 'sticky' | 'hash_clientid' | 'hash_topic';

/** Every strategy name, for configuration validation. */
export const SHARE_STRATEGIES: readonly ShareStrategy[] = [
  'round_robin',
  'random',
  'sticky',
  'hash_clientid',
  'hash_topic',
];

/**
 * 32-bit FNV-1a over UTF-16 code units: stable across runs and processes (unlike a
 * seeded hash), so the same publisher or topic keeps landing on the same member.
 */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A shared subscription group; M is the member record (a subscription). */
export class SharedGroup<M> {
  /** The group name from `$share/{name}/...`. */
  readonly name: string;
  /** The topic filter the group subscribes to (without the `$share/{name}/` prefix). */
  readonly filter: string;
  /** The distribution strategy. */
  readonly strategy: ShareStrategy;
  private readonly keys: string[] = [];
  private readonly vals: M[] = [];
  private readonly index = new Map<string, number>();
  /** Round-robin position: the next member to try. */
  private cursor = 0;
  /** Sticky member's index, or -1 when none is chosen yet. */
  private sticky = -1;

  constructor(name: string, filter: string, strategy: ShareStrategy) {
    this.name = name;
    this.filter = filter;
    this.strategy = strategy;
  }

  /** Adds a member, or replaces it in place (keeping its turn) when the key is already present. */
  add(memberKey: string, member: M): void {
    const i = this.index.get(memberKey);
    if (i !== undefined) {
      this.vals[i] = member;
      return;
    }
    this.index.set(memberKey, this.keys.length);
    this.keys.push(memberKey);
    this.vals.push(member);
  }

  /** Removes a member; positions shift so the rotation continues with whoever was next. */
  remove(memberKey: string): boolean {
    const i = this.index.get(memberKey);
    if (i === undefined) return false;
    this.index.delete(memberKey);
    this.keys.splice(i, 1);
    this.vals.splice(i, 1);
    for (let j = i; j < this.keys.length; j++) this.index.set(this.keys[j]!, j);
    if (i < this.cursor) this.cursor--;
    if (this.cursor >= this.keys.length) this.cursor = 0;
    if (this.sticky === i) this.sticky = -1;
    else if (this.sticky > i) this.sticky--;
    return true;
  }

  /** The member under a key. */
  get(memberKey: string): M | undefined {
    const i = this.index.get(memberKey);
    return i === undefined ? undefined : this.vals[i];
  }

  /** Number of members. */
  get size(): number {
    return this.keys.length;
  }

  /** Chooses one member for a message on `topic` published by `publisherId`; `accept(member)` lets the broker skip members that can't take it now (e.g. offline or window full) — pick the next by strategy; returns undefined if none accepts. */
  pick(topic: string, publisherId: string, accept?: (m: M) => boolean): M | undefined {
    const n = this.vals.length;
    if (n === 0) return undefined;
    let start: number;
    switch (this.strategy) {
      case 'round_robin':
        start = this.cursor;
        break;
      case 'sticky':
        start = this.sticky >= 0 ? this.sticky : this.cursor;
        break;
      case 'random':
        start = Math.floor(Math.random() * n);
        break;
      case 'hash_clientid':
        start = fnv1a(publisherId) % n;
        break;
      case 'hash_topic':
        start = fnv1a(topic) % n;
        break;
    }
    const vals = this.vals;
    for (let k = 0; k < n; k++) {
      let j = start + k;
      if (j >= n) j -= n;
      const m = vals[j]!;
      if (accept === undefined || accept(m)) {
        // The cursor moves past whoever was chosen, so refusals don't skew the rotation.
        this.cursor = j + 1 === n ? 0 : j + 1;
        if (this.strategy === 'sticky') this.sticky = j;
        return m;
      }
    }
    return undefined;
  }

  /** Iterates (memberKey, member) in join order. */
  *members(): IterableIterator<[string, M]> {
    const keys = this.keys.slice();
    const vals = this.vals.slice();
    for (let i = 0; i < keys.length; i++) yield [keys[i]!, vals[i]!];
  }
}
