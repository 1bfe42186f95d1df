import { ConfigError } from '../config/config-error.js';
import { serve } from './serve.js';
import { CONFIG_ERROR_EXIT, StartupError } from './startup-error.js';

/** Subcommands, loaded on demand so the broker starts without loading client code. */
const SUBCOMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  passwd: async () => (await import('./passwd.js')).passwdMain,
  bench: async () => (await import('./bench.js')).benchMain,
  pub: async () => (await import('./pub.js')).pubMain,
  sub: async () => (await import('./sub.js')).subMain,
  rr: async () => (await import('./rr.js')).rrMain,
  cluster: async () => (await import('./cluster-status.js')).clusterMain,
};

/** Entry point of the `heron` command. Returns when a subcommand finishes; the broker keeps running. */
export async function main(argv: string[]): Promise<void> {
  const sub = argv[0];
  try {
    if (sub !== undefined && Object.hasOwn(SUBCOMMANDS, sub)) {
      const run = await SUBCOMMANDS[sub]!();
      process.exitCode = await run(argv.slice(1));
      return;
    }
    const code = await serve(argv);
    if (code >= 0) process.exitCode = code;
  } catch (err) {
    // Mosquitto's exit statuses: scripts and service managers tell failures apart by them.
    if (err instanceof StartupError) process.exit(err.exitCode);
    if (err instanceof ConfigError) {
      process.stderr.write(`Error: ${err.message}\n`);
      process.exit(CONFIG_ERROR_EXIT);
    }
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
