/**
 * The life of a tool that waits on the broker for messages (`heron sub`, `heron rr`):
 * one exit code, decided once, by -W, an abort, the connection or the tool itself.
 */
import { connect, type MqttClient } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import type { ClientToolConfig } from './client-args.js';
import type { ClientTool } from './tool-flags.js';
import { connectErrorText, connectExitCode } from './tool-io.js';

/** Exit code when -W expires (mosquitto_sub's and mosquitto_rr's). */
const TIMEOUT_EXIT_CODE = 27;

/** One run of a waiting tool; `exit` resolves once the client (if any) has disconnected. */
export class WaitingRun {
  /** Set once the exit code is decided; later events are ignored. */
  finished = false;
  /** The connected client, once there is one. */
  client: MqttClient | undefined;
  /** Resolves to the tool's exit code. */
  readonly exit: Promise<number>;
  private resolveExit: (code: number) => void = () => {};
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.finish(0);

  constructor(
    private readonly tool: ClientTool,
    private readonly cfg: ClientToolConfig,
    private readonly signal: AbortSignal | undefined,
    private readonly err: (chunk: string) => void,
  ) {
    this.exit = new Promise<number>((r) => (this.resolveExit = r));
    signal?.addEventListener('abort', this.onAbort);
    this.timer =
      cfg.timeout > 0
        ? setTimeout(() => {
            if (!cfg.quiet) err('Timed out\n');
            this.finish(TIMEOUT_EXIT_CODE);
          }, cfg.timeout * 1000)
        : undefined;
  }

  /** Decides the exit code (first call wins) and disconnects politely. */
  finish(code: number): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    const c = this.client;
    if (c === undefined) this.resolveExit(code);
    else c.end({ properties: this.cfg.properties.disconnect }).then(() => this.resolveExit(code));
  }

  /** Connects; undefined when that failed (reported, exit 1) or the run ended meanwhile. */
  async connect(options: ClientOptions): Promise<MqttClient | undefined> {
    let c: MqttClient;
    try {
      c = await connect(options);
    } catch (e) {
      if (!this.finished && !this.cfg.quiet)
        this.err(connectErrorText(e, this.tool, this.cfg.protocolVersion));
      this.finish(connectExitCode(e));
      return undefined;
    }
    this.client = c;
    if (this.finished) {
      await c.end();
      return undefined;
    }
    return c;
  }

  /** True (and exit 1, reported) when the broker refused every subscription. */
  allDenied(codes: readonly number[]): boolean {
    if (!codes.every((code) => code >= 0x80)) return false;
    if (!this.cfg.quiet) this.err('All subscription requests were denied.\n');
    this.finish(1);
    return true;
  }

  /** Ends the run with exit 1 after an error, reporting it unless already finished. */
  fail(e: unknown): void {
    if (!this.finished && !this.cfg.quiet) this.err(`Error: ${(e as Error).message}\n`);
    this.finish(1);
  }
}
