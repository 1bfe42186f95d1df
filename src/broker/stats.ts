import { ListenerStatsTable } from './listener-stats.js';

/**
 * Broker-wide counters: the source of $SYS topics, metrics and the admin API.
 * Plain number fields, bumped inline on the hot path.
 */
export class BrokerStats {
  /** When the broker started (ms since epoch). */
  readonly startedAt = Date.now();
  /** Clients currently connected. */
  connected = 0;
  /** Highest number of clients connected at once. */
  maximumConnected = 0;
  /** Connections accepted since start (CONNACK 0). */
  connectionsTotal = 0;
  /** MQTT packets received / sent, all types. */
  packetsReceived = 0;
  packetsSent = 0;
  /** PUBLISH packets received from clients / sent to clients. */
  publishReceived = 0;
  publishSent = 0;
  /** Deliveries dropped: queue full, slow consumer, too large, expired, offline QoS 0. */
  publishDropped = 0;
  /** Online clients whose full queue sat past slow_consumer_timeout (publishers resumed, the queue drops). */
  stalledConsumers = 0;
  /** Times a publisher's connection stopped being read because a subscriber's queue was full. */
  publishersPaused = 0;
  /** Bytes read from / written to client sockets. */
  bytesReceived = 0;
  bytesSent = 0;
  /** Connections closed for a malformed packet or protocol violation. */
  protocolErrors = 0;
  /** CONNECTs refused for bad credentials or authorization. */
  authFailures = 0;
  /** PUBLISH/SUBSCRIBE refused by authorization. */
  authzDenied = 0;
  /** Failed lookups of a built-in auth_plugin backend (database or web service). */
  authBackendErrors = 0;
  /** CONNECTs refused "server unavailable" because that backend could not answer. */
  authBackendUnavailable = 0;
  /** Connections closed because keep alive expired. */
  keepaliveTimeouts = 0;
  /** Connections refused before MQTT: max_connections, connection rate limit. */
  connectionsRefused = 0;
  /** Connections closed for sending no CONNECT within connect_timeout. */
  connectTimeouts = 0;
  /** Connections closed as slow consumers: not read for a keep alive period because they did not read. */
  slowConsumers = 0;
  /** Connections closed to keep bytes held in incomplete packets within max_incomplete_packet_bytes. */
  incompletePacketCloses = 0;
  /** Packets refused for exceeding max_packet_size (each closed its connection). */
  packetsTooLarge = 0;
  /** PUBLISH payloads refused for exceeding message_size_limit. */
  messagesTooLarge = 0;
  /** PUBLISH refused by publish_rate_limit (messages per second). */
  publishRateLimited = 0;
  /** PUBLISH refused by publish_byte_rate_limit (payload bytes per second). */
  publishQuotaExceeded = 0;
  /** SUBSCRIBE filters refused by max_subscriptions_per_client. */
  subscriptionsRefused = 0;
  /** Topics or filters refused for exceeding max_topic_levels. */
  topicLevelsExceeded = 0;
  /** Exceptions caught in a client's handling (each closed that client only). */
  internalErrors = 0;
  /** Messages received and sent, by listener. */
  readonly listeners = new ListenerStatsTable();
}
