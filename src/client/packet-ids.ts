/**
 * Packet identifiers in use by one client (publishes awaiting acks and pending
 * SUBSCRIBE/UNSUBSCRIBE share the 1..65535 space), with the entry each id tracks.
 */
export class PacketIdMap<T> {
  private readonly entries = new Map<number, T>();
  private next = 1;

  /** Ids in use. */
  get size(): number {
    return this.entries.size;
  }

  /** Stores `entry` under a free id and returns the id, or 0 when all 65535 are taken. */
  allocate(entry: T): number {
    if (this.entries.size >= 65535) return 0;
    let id = this.next;
    while (this.entries.has(id)) id = id === 65535 ? 1 : id + 1;
    this.next = id === 65535 ? 1 : id + 1;
    this.entries.set(id, entry);
    return id;
  }

  get(id: number): T | undefined {
    return this.entries.get(id);
  }

  delete(id: number): void {
    this.entries.delete(id);
  }

  /** Entries in allocation order (Map insertion order), for re-sending after a reconnect. */
  values(): IterableIterator<T> {
    return this.entries.values();
  }

  /** Removes and returns every entry. */
  drain(): T[] {
    const all = [...this.entries.values()];
    this.entries.clear();
    return all;
  }
}
