/**
 * Aedes-style handler assignments (`broker.authenticate = fn`) fail loudly.
 * Without this, such an assignment would shadow the broker's own method of the
 * same name (every CONNECT then fails) or be silently ignored (no check runs).
 */

/** Aedes handler names, and what Heron takes instead. */
const HEIRS: Readonly<Record<string, string>> = {
  authenticate: 'createBroker({ hooks: { authenticate } })',
  authorizePublish: 'createBroker({ hooks: { authorizePublish } })',
  authorizeSubscribe: 'createBroker({ hooks: { authorizeSubscribe } })',
  authorizeForward: 'createBroker({ hooks: { authorizeRead } })',
  preConnect: 'createBroker({ hooks: { authenticate } }) or the connectionRateLimit option',
  published: "broker.on('publish', listener)",
};

/**
 * Makes each Aedes handler name on `proto` an accessor: reading it gives the
 * prototype's own method (or undefined), assigning it throws a TypeError that
 * names Heron's equivalent, in strict and sloppy code alike.
 */
export function guardHandlerNames(proto: object): void {
  for (const [name, instead] of Object.entries(HEIRS)) {
    const own: unknown = Object.getOwnPropertyDescriptor(proto, name)?.value;
    Object.defineProperty(proto, name, {
      configurable: false,
      enumerable: false,
      get: () => own,
      set() {
        throw new TypeError(
          `broker.${name} cannot be assigned: Heron is configured with ${instead} (see docs/embedding.md#hooks)`,
        );
      },
    });
  }
}
