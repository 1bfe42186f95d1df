import { ConfigError } from './config-error.js';
import { ALL_LOG_TYPES, defaultConfig, localOnlyListeners } from './defaults.js';
import { loadConfigFile } from './parse.js';
import type { HeronConfig } from './types.js';

/** What the broker command line asked for. */
export interface BrokerArgs {
  /** -c / --config-file FILE. */
  configFile?: string;
  /** The first -p / --port value (convenience for the common single-port case). */
  port?: number;
  /** Every -p / --port value, in order (at most 10, as in Mosquitto). */
  ports: number[];
  /** -v / --verbose: log every type of message. */
  verbose: boolean;
  /** -d / --daemon: detach and run in the background. */
  daemon: boolean;
  /** -h / --help: print usage and exit. */
  help: boolean;
  /** --version: print the version and exit. */
  version: boolean;
}

/** The most -p flags Mosquitto accepts. */
const MAX_COMMAND_LINE_PORTS = 10;

/** The broker's usage text (printed for -h and after a bad flag). */
export const BROKER_USAGE = `Usage: heron [-c config_file] [-d] [-h] [-p port] [-v] [--version]

 -c, --config-file FILE  read the configuration from FILE (mosquitto.conf syntax).
 -d, --daemon            run in the background after starting.
 -h, --help              show this help.
 -p, --port PORT         listen on PORT (repeatable, up to ${MAX_COMMAND_LINE_PORTS} times). Used only when
                         no listener is configured: then Heron, like Mosquitto 2, listens on
                         127.0.0.1 and ::1 only.
 -v, --verbose           log every message type, overriding log_type in the file.
     --version           show the version.`;

/** A command-line mistake: the message is followed by the usage text. */
function usageError(detail: string, flag: string): ConfigError {
  return new ConfigError(`${detail}\n\n${BROKER_USAGE}`, { option: flag });
}

/** Parses broker flags the way Mosquitto does (`argv` excludes node and the script). */
export function parseBrokerArgs(argv: string[]): BrokerArgs {
  const args: BrokerArgs = {
    ports: [],
    verbose: false,
    daemon: false,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '-c':
      case '--config-file': {
        const v = argv[++i];
        if (v === undefined) throw usageError(`${a} needs a configuration file path`, a);
        if (args.configFile !== undefined) throw usageError(`${a} given more than once`, a);
        args.configFile = v;
        break;
      }
      case '-p':
      case '--port': {
        const v = argv[++i];
        if (v === undefined) throw usageError(`${a} needs a port number`, a);
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
          throw usageError(`${a} expects a port number from 1 to 65535, got '${v}'`, a);
        }
        if (args.ports.length === MAX_COMMAND_LINE_PORTS) {
          throw usageError(`at most ${MAX_COMMAND_LINE_PORTS} ports can be given`, a);
        }
        args.ports.push(Number(v));
        args.port ??= Number(v);
        break;
      }
      case '-v':
      case '--verbose':
        args.verbose = true;
        break;
      case '-d':
      case '--daemon':
        args.daemon = true;
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--version':
        args.version = true;
        break;
      default:
        throw usageError(`unknown option '${a}'`, a);
    }
  }
  return args;
}

/**
 * The configuration for a broker started with these flags: the file if one was
 * given, else Mosquitto 2's defaults (loopback listeners on 1883 or the -p
 * ports, anonymous allowed); -p only matters when no listener is configured,
 * -v overrides log_type and -d sets daemon.
 */
export async function resolveConfig(
  args: BrokerArgs,
  options: { cwd?: string } = {},
): Promise<HeronConfig> {
  let cfg: HeronConfig;
  if (args.configFile !== undefined) {
    cfg = await loadConfigFile(args.configFile, {
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      commandLinePorts: args.ports,
    });
  } else {
    cfg = defaultConfig();
    if (args.ports.length > 0) cfg.listeners = args.ports.flatMap((p) => localOnlyListeners(p));
  }
  if (args.verbose) {
    cfg.verbose = true;
    cfg.log.types = [...ALL_LOG_TYPES];
  }
  if (args.daemon) cfg.daemon = true;
  return cfg;
}
