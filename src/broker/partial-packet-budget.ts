/** A connection whose decoder may hold part of a packet. */
export interface PartialHolder {
  /** Closes the connection because the budget ran out; `bytes` is what it held. */
  closeForBudget(bytes: number): void;
}

/**
 * The broker-wide budget for bytes held in incomplete packets. A client that
 * announces a large PUBLISH and trickles it makes the broker hold every byte
 * until the last one arrives; max_packet_size cannot stop a few hundred such
 * clients without also refusing large legitimate payloads. Past the budget the
 * largest holders are closed first, so small packets in progress survive.
 */
export class PartialPacketBudget {
  private readonly held = new Map<PartialHolder, number>();
  private heldBytes = 0;
  private readonly limit: number;

  /** `limit` in bytes; 0 disables the budget. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held in incomplete packets by all connections. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** A connection now holds `bytes` of an incomplete packet (0: none); may close the largest holders. */
  update(h: PartialHolder, bytes: number): void {
    const old = this.held.get(h) ?? 0;
    if (bytes === 0) this.held.delete(h);
    else this.held.set(h, bytes);
    this.heldBytes += bytes - old;
    if (this.limit > 0 && this.heldBytes > this.limit) this.enforce();
  }

  private enforce(): void {
    while (this.heldBytes > this.limit && this.held.size > 0) {
      let worst: PartialHolder | undefined;
      let most = 0;
      for (const [h, n] of this.held)
        if (n > most) {
          most = n;
          worst = h;
        }
      this.held.delete(worst!);
      this.heldBytes -= most;
      worst!.closeForBudget(most);
    }
  }
}
