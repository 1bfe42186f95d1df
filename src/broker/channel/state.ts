/** Where a channel is in its life, from the first byte to the closed socket. */
export enum State {
  /** Waiting for CONNECT. */
  Connecting = 0,
  /** CONNECT received, authentication running. */
  Authenticating = 1,
  /** CONNACK 0 sent. */
  Connected = 2,
  /** Socket closing or closed. */
  Closed = 3,
  /**
   * Attached to its session, CONNACK 0 written but held with everything after
   * it (the socket stays corked) until the commit of the stored session change.
   */
  Held = 4,
}
