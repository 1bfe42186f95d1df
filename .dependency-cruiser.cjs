// The import arrows of docs/architecture.md, checked by `npm run lint:deps`.
//
// Type-only imports count (tsPreCompilationDeps: true). They vanish from the
// emitted JavaScript, so they never cause a load-order bug, but the layering is
// about which module has to know which: a transport that names `Broker` in a
// type still cannot be moved, tested or reused without the broker. Counting them
// also keeps a cycle from hiding behind an `import type` until someone needs a
// value from the other side.
//
// Layers, lowest first (a layer may import the ones above it in this list):
//   protocol, log          pure: bytes <-> packets, logging
//   config                 mosquitto.conf -> one typed object
//   transport              listeners -> byte streams, defines the acceptor interface
//   client                 MQTT client on the same codec
//   auth                   password/ACL files and backends; implements broker hook types
//   store                  records and backends; never a Channel
//   broker                 channel, session, router, registry, Broker (the core)
//   cluster               beside the broker, through the host interface it defines
//   bridge, admin          on the broker's public API
//   cli, index.ts          the top: wiring and argument parsing

/** A path regex for every folder of src/ except those listed. */
const otherThan = (...folders) => `^src/(?!(${folders.join('|')})/)[^/]+/`;

// What bridge/ and admin/ may import from broker/: the embedding API (Broker,
// its options, events and stats), the message and session types it hands out,
// and the DeliveryTarget a bridge implements; never the connection (channel),
// routing or registry internals.
const BROKER_PUBLIC =
  '^src/broker/(broker|options|client-info|events|message|stats|session|delivery-target|enhanced-auth|scram-auth)\\.ts$';

// What cluster/ may import from broker/: message and session types and the
// topic trie. It reaches the running broker only through the host interface
// it defines (cluster/host.ts), which the broker implements.
const CLUSTER_MAY_USE =
  '^src/broker/(options|client-info|message|session|delivery-target|topic-trie)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: the modules in it can only be loaded, moved and tested together.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'protocol-is-pure',
      severity: 'error',
      comment: 'protocol/ is bytes <-> packets and depends on nothing else in src/.',
      from: { path: '^src/protocol/' },
      to: { path: otherThan('protocol') },
    },
    {
      name: 'log-is-a-leaf',
      severity: 'error',
      comment: 'log/ is used everywhere, so it may use only protocol/.',
      from: { path: '^src/log/' },
      to: { path: otherThan('log', 'protocol') },
    },
    {
      name: 'config-depends-on-nothing',
      severity: 'error',
      comment: 'config/ parses configuration; it knows protocol/ and log/, no consumer of the config.',
      from: { path: '^src/config/' },
      to: { path: otherThan('config', 'protocol', 'log') },
    },
    {
      name: 'transport-not-broker',
      severity: 'error',
      comment:
        'transport/ hands byte streams to an acceptor interface it defines; adding a transport never touches broker code.',
      from: { path: '^src/transport/' },
      to: { path: otherThan('transport', 'protocol', 'log', 'config') },
    },
    {
      name: 'client-stands-alone',
      severity: 'error',
      comment: 'client/ is an MQTT client on the shared codec; it knows nothing of the broker.',
      from: { path: '^src/client/' },
      to: { path: otherThan('client', 'protocol', 'log', 'config', 'transport') },
    },
    {
      name: 'bench-is-a-client',
      severity: 'error',
      comment: 'bench/ (heron bench) measures a broker from outside, as a client does.',
      from: { path: '^src/bench/' },
      to: { path: otherThan('bench', 'protocol', 'log', 'config', 'transport', 'client') },
    },
    {
      name: 'auth-below-the-broker',
      severity: 'error',
      comment: 'auth/ sits beside the core: it knows protocol/, log/, config/ and the broker hook types.',
      from: { path: '^src/auth/' },
      to: { path: otherThan('auth', 'protocol', 'log', 'config', 'broker') },
    },
    {
      name: 'auth-only-broker-types',
      severity: 'error',
      comment: 'auth/ may name the broker hook types (options.ts, client-info.ts), no other broker module.',
      from: { path: '^src/auth/' },
      to: { path: '^src/broker/', pathNot: '^src/broker/(options|client-info)\\.ts$' },
    },
    {
      name: 'store-never-a-channel',
      severity: 'error',
      comment:
        'store/ knows records, never Channels or the Broker: "this change is durable" is a promise or callback.',
      from: { path: '^src/store/' },
      to: { path: ['^src/broker/channel(\\.ts$|/)', '^src/broker/broker\\.ts$'] },
    },
    {
      name: 'store-below-the-rest',
      severity: 'error',
      comment: 'store/ sits below transport/, cluster/, bridge/, admin/ and cli/.',
      from: { path: '^src/store/' },
      to: { path: otherThan('store', 'protocol', 'log', 'config', 'broker') },
    },
    {
      name: 'broker-not-its-neighbours',
      severity: 'error',
      comment:
        'The core never imports what is built on it; cluster/ only where it is wired or adapted (and its option type named).',
      from: {
        path: '^src/broker/',
        pathNot: '^src/broker/(broker|create-broker|cluster-host|options)\\.ts$',
      },
      to: { path: '^src/(cluster|bridge|admin|cli|bench|client)/' },
    },
    {
      name: 'broker-wiring-not-above',
      severity: 'error',
      comment: 'Even the wiring of the broker does not import bridge/, admin/ or cli/ (they wire themselves onto it).',
      from: { path: '^src/broker/' },
      to: { path: '^src/(bridge|admin|cli|bench|client)/' },
    },
    {
      name: 'add-ons-through-public-broker',
      severity: 'error',
      comment: 'bridge/ and admin/ use the broker through its public API, never its internals.',
      from: { path: '^src/(bridge|admin)/' },
      to: { path: '^src/broker/', pathNot: BROKER_PUBLIC },
    },
    {
      name: 'cluster-through-its-host',
      severity: 'error',
      comment:
        'cluster/ never names Broker or its parts: it drives the broker through the host interface it defines.',
      from: { path: '^src/cluster/' },
      to: { path: '^src/broker/', pathNot: CLUSTER_MAY_USE },
    },
    {
      name: 'add-ons-not-cli',
      severity: 'error',
      comment: 'cluster/, bridge/ and admin/ are add-ons the CLI wires; they never import it.',
      from: { path: '^src/(cluster|bridge|admin)/' },
      to: { path: '^src/(cli|bench)/' },
    },
    {
      name: 'cli-at-the-top',
      severity: 'error',
      comment: 'Only the CLI itself and the package entry (index.ts) import cli/.',
      from: { path: '^src/', pathNot: '^src/(cli/|index\\.ts$)' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'nobody-imports-the-entry',
      severity: 'error',
      comment: 'src/index.ts is the package surface; modules inside import each other directly.',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
