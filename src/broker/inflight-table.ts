/**
 * What a session holds by packet id, in insertion (send) order: its in-flight
 * deliveries, and the incoming QoS 2 messages held until PUBREL. A Map from
 * packet id to a slot number, and the values in a slot array whose slots are
 * cleared as entries leave.
 *
 * Why not a Map of the deliveries themselves: a busy session's Map lives long,
 * so V8 keeps its hash table in the old generation, and with ids added and
 * removed all the time V8 keeps replacing that table by a new one. The old
 * table still points at the deliveries it held, and the young-generation
 * collector counts pointers from old objects as live without checking whether
 * the old object is garbage: every delivery (and its message, payload and
 * encodings) an abandoned table pointed to was kept and promoted, and kept
 * the next ones. Measured with batched QoS 1 clients: ~450 bytes promoted per
 * message and a full collection every ~200 ms, against 2-3 bytes and one full
 * collection per run with this table. Its Map holds only small integers, which
 * keep nothing alive; the slot array is replaced only when it grows, emptied
 * first.
 */
export class InflightTable<D> implements ReadonlyMap<number, D> {
  private readonly index = new Map<number, number>();
  private slots: Array<D | undefined> = [];
  private free: number[] = [];

  /** Number of deliveries in flight. */
  get size(): number {
    return this.index.size;
  }

  /** The delivery with this packet id. */
  get(packetId: number): D | undefined {
    const i = this.index.get(packetId);
    return i === undefined ? undefined : this.slots[i];
  }

  /** Whether a delivery has this packet id. */
  has(packetId: number): boolean {
    return this.index.has(packetId);
  }

  /** Puts a delivery under its packet id (replacing one already there, keeping its place in order). */
  set(packetId: number, d: D): this {
    const i = this.index.get(packetId);
    if (i !== undefined) {
      this.slots[i] = d;
      return this;
    }
    const slot = this.free.length > 0 ? this.free.pop()! : this.grow();
    this.slots[slot] = d;
    this.index.set(packetId, slot);
    return this;
  }

  /** Removes the delivery with this packet id; false if there was none. */
  delete(packetId: number): boolean {
    const i = this.index.get(packetId);
    if (i === undefined) return false;
    this.index.delete(packetId);
    this.slots[i] = undefined;
    this.free.push(i);
    return true;
  }

  /** Removes every delivery. */
  clear(): void {
    this.index.clear();
    this.slots.fill(undefined);
    this.slots = [];
    this.free = [];
  }

  /** Packet ids and deliveries in send order (deleting while iterating is allowed). */
  *entries(): MapIterator<[number, D]> {
    for (const [id, i] of this.index) yield [id, this.slots[i]!];
  }

  /** Packet ids in send order. */
  keys(): MapIterator<number> {
    return this.index.keys();
  }

  /** Deliveries in send order. */
  *values(): MapIterator<D> {
    for (const i of this.index.values()) yield this.slots[i]!;
  }

  /** Same as entries(). */
  [Symbol.iterator](): MapIterator<[number, D]> {
    return this.entries();
  }

  /** Calls `fn` for each delivery in send order. */
  forEach(fn: (d: D, packetId: number, table: ReadonlyMap<number, D>) => void): void {
    for (const [id, i] of this.index) fn(this.slots[i]!, id, this);
  }

  /** Doubles the slot array (8 at first), empties the old one, and returns a free slot. */
  private grow(): number {
    const old = this.slots;
    const n = old.length;
    const next = new Array<D | undefined>(n === 0 ? 8 : n * 2);
    for (let i = 0; i < n; i++) next[i] = old[i];
    old.fill(undefined);
    this.slots = next;
    for (let i = next.length - 1; i > n; i--) this.free.push(i);
    return n;
  }
}
