/**
 * Message counters of one listener. Each connection holds its listener's
 * object from the start, so counting a message is one increment: no lookup
 * by name and no allocation per message.
 */
export class ListenerStats {
  /** PUBLISH packets received from clients of this listener. */
  publishReceived = 0;
  /** PUBLISH packets sent to clients of this listener. */
  publishSent = 0;
}

/** The ListenerStats of every listener a connection came in on, by listener name. */
export class ListenerStatsTable {
  readonly #byName = new Map<string, ListenerStats>();

  /** The counters of `listener`, created at its first connection. */
  of(listener: string): ListenerStats {
    let s = this.#byName.get(listener);
    if (s === undefined) {
      s = new ListenerStats();
      this.#byName.set(listener, s);
    }
    return s;
  }

  /** Every listener that has had a connection, with its counters. */
  entries(): IterableIterator<[string, ListenerStats]> {
    return this.#byName.entries();
  }
}
