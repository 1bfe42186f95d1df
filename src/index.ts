/** Heron's public API: the broker, its options and hooks, the MQTT codec, and configuration. */

export type { Alarm, AlarmKind, AlarmOptions } from './admin/alarms.js';
export type { LatencyProbeOptions } from './admin/latency-probe.js';
export { BrokerMetrics } from './admin/metrics.js';
export {
  type AdminAddress,
  type AdminOptions,
  type AdminServer,
  startAdmin,
} from './admin/server.js';
export type { TraceLimits } from './admin/trace.js';
export type { Role } from './admin/users.js';
export {
  type AclChecker,
  AclFile,
  type AclSubject,
  type AclSubscribeMode,
} from './auth/acl.js';
export type { AclAccess } from './auth/acl-topic.js';
export { AuthFileError } from './auth/auth-file-error.js';
export { PasswordFile } from './auth/password-file.js';
export {
  Bridge,
  type BridgeHandle,
  type BridgeProblem,
  type BridgeState,
  type BridgeStats,
  type BridgeTuning,
  startBridges,
  stopBridges,
} from './bridge/index.js';
export {
  Broker,
  type BrokerEvents,
  type ClientConnection,
  createBroker,
  type ListenerAddress,
  type PublishedMessage,
} from './broker/broker.js';
export type {
  AuthContext,
  AuthMethod,
  AuthMethodSession,
  AuthStep,
} from './broker/enhanced-auth.js';
export type {
  AuthenticateRequest,
  AuthResult,
  BrokerConnectionInfo as ConnectionInfo,
  BrokerHooks,
  BrokerOptions,
  ClientInfo,
  ListenerOptions,
  ListenerSecurityOptions,
} from './broker/options.js';
export {
  deriveScramCredentials,
  type ScramCredentials,
  type ScramCredentialsProvider,
  type ScramOptions,
  scramCredentialsFromUsers,
  scramSha256,
} from './broker/scram-auth.js';
export { BrokerStats } from './broker/stats.js';
export { brokerOptionsFromConfig } from './cli/broker-options.js';
export * from './client/index.js';
export { Cluster, type ClusterStats } from './cluster/cluster.js';
export { ClusterError } from './cluster/cluster-error.js';
export type { ClusterOptions } from './cluster/options.js';
export {
  type BrokerArgs,
  ConfigError,
  defaultConfig,
  type HeronConfig,
  listenerSecurity,
  listenerSummary,
  loadConfigFile,
  type ParseOptions,
  parseBrokerArgs,
  parseConfigText,
  resolveConfig,
} from './config/index.js';
export * from './protocol/index.js';
export { LmdbStore } from './store/lmdb.js';
export { MemoryStore } from './store/memory.js';
export {
  type DeliveryRecord,
  type MessageRecord,
  type PersistenceOptions,
  type SessionRecord,
  type Store,
  type StoredState,
  StoreError,
  type StoreErrorCode,
  type SubscriptionData,
  type SyncMode,
} from './store/store.js';
export { WriteBatch } from './store/write-batch.js';
