import { spawn } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AdminServer } from '../admin/server.js';
import { discardUnconfiguredBridges } from '../bridge/bridge-store.js';
import type { BridgeHandle } from '../bridge/index.js';
import { type Broker, createBroker } from '../broker/broker.js';
import { BROKER_USAGE, parseBrokerArgs, resolveConfig } from '../config/args.js';
import { ConfigError } from '../config/config-error.js';
import { listenerSummary } from '../config/listener-info.js';
import type { HeronConfig } from '../config/types.js';
import { createLogger, TopicLogSink } from '../log/logger.js';
import { lifecycleLine } from '../log/mosquitto-lines.js';
import {
  brokerOptionsFromConfig,
  listenerOptions,
  logSettingsFromConfig,
  pluginAuthFingerprint,
  pluginAuthFromConfig,
} from './broker-options.js';
import { dropPrivileges } from './privileges.js';
import {
  CONFIG_ERROR_EXIT,
  describeStartupFailure,
  StartupError,
  strerror,
} from './startup-error.js';
import { VERSION } from './version.js';

/** A running broker process: what SIGHUP and SIGTERM act on. */
export interface RunningBroker {
  broker: Broker;
  config: HeronConfig;
  log: Logger;
  /** The admin HTTP server, when `admin_listener` is configured. */
  admin: AdminServer | undefined;
  /** Re-reads what Mosquitto re-reads on SIGHUP (TLS certificates, password/ACL files, logging). */
  reload(): Promise<void>;
  /** Graceful stop. */
  stop(): Promise<void>;
}

/** Starts a broker from command-line flags (the `heron` command without a subcommand). */
export async function serve(argv: string[], out = process.stdout): Promise<number> {
  const args = parseBrokerArgs(argv);
  if (args.help) {
    out.write(
      `heron ${VERSION}: an MQTT 5.0/3.1.1/3.1 broker.\n\n${BROKER_USAGE}\n\nSubcommands: heron pub | sub | rr | passwd | bench (see heron <subcommand> --help)\n`,
    );
    return 0;
  }
  if (args.version) {
    out.write(`heron version ${VERSION}\n`);
    return 0;
  }
  if (args.daemon && process.env.HERON_DAEMON_CHILD !== '1') {
    // -d: re-run detached without a terminal, and return at once like mosquitto -d.
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, HERON_DAEMON_CHILD: '1' },
    });
    child.unref();
    return 0;
  }
  // Signals are handled from the start: a SIGTERM that arrives while the store
  // opens or listeners bind still ends in a clean shutdown, not a killed process.
  const signals = installSignalHandlers();
  const config = await resolveConfig(args);
  const running = await startFromConfig(config);
  // Only the heron process itself changes user, never an application embedding startFromConfig.
  if (!dropPrivileges(config.user, running.log)) {
    await running.stop();
    throw new StartupError('unable to drop privileges', 1);
  }
  signals.attach(running);
  return -1; // keep running
}

/** Builds, starts and logs a broker for a resolved configuration. */
export async function startFromConfig(config: HeronConfig): Promise<RunningBroker> {
  // log_dest topic: log lines become $SYS/broker/log/<X> messages once the broker exists.
  const topicSink = new TopicLogSink();
  let log = createLogger(logSettingsFromConfig(config, topicSink));
  log.info(lifecycleLine(VERSION, 'starting'));
  for (const w of config.warnings)
    log.warn(`${w.file ? `${w.file}:${w.line}: ` : ''}${w.option}: ${w.message}`);
  if (config.localOnly) {
    log.info(
      'Starting in local only mode. Connections will only be possible from clients running on this machine.',
    );
    log.info('Create a configuration file which defines a listener to allow remote access.');
    log.info('For more details see https://mosquitto.org/documentation/authentication-methods/');
  }
  if (config.sources.length > 0) log.info(`Config loaded from ${config.sources[0]}.`);
  const options = brokerOptionsFromConfig(config, VERSION);
  options.logger = log;
  const dbAuth = await pluginAuthFromConfig(config);
  if (dbAuth !== undefined) {
    options.hooks = dbAuth.hooks;
    dbAuth.setLogger(log);
    const s = dbAuth.settings;
    log.info(
      `Auth plugin ${s.pluginPath} is not loaded: Heron's built-in ${s.backend} backend reads its ${s.flavour} options instead (${dbAuth.target}).`,
    );
    if (s.backend === 'http' && s.tls && !s.verifyPeer)
      log.warn(
        "auth_opt_http_verify_peer is not true: the auth service's certificate is not checked (go-auth's default)",
      );
  }
  const broker = createBroker(options);
  dbAuth?.countInto(broker.stats);
  topicSink.publish = (topic, line) =>
    broker.publish({ topic, payload: Buffer.from(line), qos: 0, retain: false });
  // Filled once the admin runs: its bridges page reads this very array.
  const bridges: BridgeHandle[] = [];
  // Loaded only with bridges configured: the bridge pulls in the MQTT client.
  const bridging = config.bridges.length > 0 ? await import('../bridge/index.js') : undefined;
  try {
    // Bridges subscribe (and take back their stored messages) before the first
    // client is accepted: a message published then would find no `out`
    // subscriber and be acknowledged without ever reaching the remote.
    await broker.ready();
    if (bridging !== undefined) bridges.push(...bridging.startBridges(broker, config.bridges, log));
    for (const id of discardUnconfiguredBridges(broker, config.bridges))
      log.warn(
        `Discarding the stored messages of bridge local client ${id}: no longer configured.`,
      );
    await broker.listen();
  } catch (e) {
    // Reported here once; the entry point only exits with the code.
    const failure = describeStartupFailure(e, config);
    log.error(failure.message);
    if (bridging !== undefined) await bridging.stopBridges(bridges);
    await broker.close();
    await dbAuth?.close();
    throw new StartupError(failure.message, failure.exitCode, { cause: e });
  }
  for (const l of config.listeners) log.info(`Listening: ${listenerSummary(l)}`);
  let admin: AdminServer | undefined;
  if (config.admin !== undefined) {
    try {
      // Loaded here, not at start: brokers without an admin listener never load it (nor prom-client).
      const { startAdminFromConfig } = await import('./admin-start.js');
      admin = await startAdminFromConfig(broker, config.admin, bridges);
    } catch (e) {
      // A bad admin_users_file is a configuration error, named at its line.
      const badFile = e instanceof ConfigError;
      const message = badFile
        ? `Error: ${e.message}`
        : `Error: unable to open the admin listener: ${strerror(e)}`;
      log.error(message);
      if (bridging !== undefined) await bridging.stopBridges(bridges);
      await broker.close();
      throw new StartupError(message, badFile ? CONFIG_ERROR_EXIT : 1, { cause: e });
    }
    log.info(`Admin API, metrics and dashboard on ${admin.address().url}`);
  }
  if (config.pidFile !== undefined) writeFileSync(config.pidFile, `${process.pid}\n`);
  log.info(lifecycleLine(VERSION, 'running'));
  const running: RunningBroker = {
    broker,
    config,
    log,
    admin,
    async reload() {
      log.info('Reloading config.');
      try {
        const fresh =
          config.sources.length > 0
            ? await resolveConfig({
                configFile: config.sources[0],
                ports: [],
                verbose: config.verbose,
                daemon: false,
                help: false,
                version: false,
              })
            : config;
        log = createLogger(logSettingsFromConfig(fresh, topicSink));
        broker.setLogger(log);
        dbAuth?.setLogger(log);
        fresh.listeners
          .filter((l) => l.unixSocketPath === undefined)
          .forEach((l, i) => {
            if (l.tls !== undefined) broker.reloadTls(i, listenerOptions(l).tls!);
          });
        await broker.reloadSecurity();
        // As in Mosquitto, auth plugin options are read at startup only.
        if (pluginAuthFingerprint(fresh) !== pluginAuthFingerprint(config))
          log.warn(
            'auth_plugin / auth_opt_* lines changed: the authentication backend keeps its startup settings until Heron is restarted',
          );
        log.info('Configuration reloaded: TLS certificates, password and ACL files, logging.');
      } catch (e) {
        log.error(`Error reloading configuration: ${(e as Error).message}`);
      }
    },
    async stop() {
      log.info(lifecycleLine(VERSION, 'terminating'));
      if (bridging !== undefined) await bridging.stopBridges(bridges);
      await admin?.close();
      await broker.close();
      await dbAuth?.close();
      if (config.pidFile !== undefined) {
        try {
          unlinkSync(config.pidFile);
        } catch {
          // already gone
        }
      }
    },
  };
  return running;
}

/** Signal handling that exists before the broker does; `attach` hands it the running broker. */
function installSignalHandlers(): { attach(r: RunningBroker): void } {
  let running: RunningBroker | undefined;
  let stopRequested = false;
  let stopping = false;
  const stop = (): void => {
    if (running === undefined) {
      stopRequested = true; // acted on once startup completes
      return;
    }
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', () => {
    if (running !== undefined) void running.reload();
  });
  return {
    attach(r: RunningBroker): void {
      running = r;
      if (stopRequested) stop();
    },
  };
}
