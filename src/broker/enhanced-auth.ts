/**
 * MQTT 5 enhanced authentication (spec 4.12): the pluggable method API and the
 * per-connection exchange that drives one method through CONNECT/AUTH/CONNACK
 * and through later re-authentications (AUTH 0x19).
 *
 * A method is a factory registered under its name in `BrokerOptions.authMethods`.
 * For every exchange the broker calls the factory once with an {@link AuthContext}
 * and then feeds the returned {@link AuthMethodSession} the client's data: `start`
 * with the Authentication Data of CONNECT (or of the AUTH 0x19 that begins a
 * re-authentication), `continue` with that of each AUTH 0x18 that follows. Each
 * step answers with an {@link AuthStep}:
 *
 * - `{ status: 'continue', data }`: the broker sends AUTH 0x18 carrying `data`.
 * - `{ status: 'success', data, username }`: CONNACK 0 (or AUTH 0x00 on re-auth)
 *   carrying `data`; `username`, when given, becomes the client's user name.
 * - `{ status: 'failure', reasonCode }`: CONNACK (or DISCONNECT on re-auth) with
 *   `reasonCode` (default 0x87 Not authorized), then the connection is closed.
 *
 * Steps may be asynchronous (return a Promise).
 */
import type { Properties } from '../protocol/properties.js';
import type { ClientInfo } from './client-info.js';

/** What a method knows about the client when an exchange starts. */
export interface AuthContext {
  /** The connecting (or connected, on re-authentication) client. */
  readonly client: ClientInfo;
  /** The Authentication Method name. */
  readonly method: string;
  /** User name and password from CONNECT, if the client sent them. */
  readonly username: string | undefined;
  readonly password: Buffer | undefined;
  /** CONNECT properties (user properties, ...). */
  readonly properties: Properties | undefined;
  /** True for a re-authentication of an already connected client. */
  readonly reauthentication: boolean;
}

/** The outcome of one step of an authentication exchange. */
export type AuthStep =
  | { status: 'continue'; data?: Buffer | undefined }
  | { status: 'success'; data?: Buffer | undefined; username?: string | undefined }
  | { status: 'failure'; reasonCode?: number | undefined; reason?: string | undefined };

/** One running exchange of a method with one client. */
export interface AuthMethodSession {
  /** First step, with the Authentication Data of CONNECT or of AUTH 0x19. */
  start(data: Buffer | undefined): AuthStep | Promise<AuthStep>;
  /** Each later step, with the Authentication Data of an AUTH 0x18. */
  continue(data: Buffer | undefined): AuthStep | Promise<AuthStep>;
}

/** An enhanced authentication method: creates one session per exchange. */
export type AuthMethod = (ctx: AuthContext) => AuthMethodSession;

/** Where an exchange stands. */
export const ExchangePhase = {
  /** No step running, waiting for the client's next AUTH. */
  WaitingForClient: 0,
  /** A step is running (possibly asynchronously). */
  Running: 1,
  /** Finished (success or failure); further AUTH 0x18 are protocol errors. */
  Done: 2,
} as const;

/** One of the ExchangePhase values. */
export type ExchangePhase = (typeof ExchangePhase)[keyof typeof ExchangePhase];

/**
 * One authentication exchange on one connection: remembers the method, the
 * method's session and the phase, and turns method errors into failures so a
 * throwing plugin never escapes the connection.
 */
export class AuthExchange {
  /** The Authentication Method name (echoed in every AUTH and the CONNACK). */
  readonly method: string;
  /** Whether this exchange re-authenticates a connected client. */
  readonly reauthentication: boolean;
  phase: ExchangePhase = ExchangePhase.Running;
  private readonly session: AuthMethodSession;

  constructor(factory: AuthMethod, ctx: AuthContext) {
    this.method = ctx.method;
    this.reauthentication = ctx.reauthentication;
    this.session = factory(ctx);
  }

  /** Runs the first step. */
  start(data: Buffer | undefined): Promise<AuthStep> {
    return this.run(() => this.session.start(data));
  }

  /** Runs a later step. */
  continue(data: Buffer | undefined): Promise<AuthStep> {
    return this.run(() => this.session.continue(data));
  }

  private async run(step: () => AuthStep | Promise<AuthStep>): Promise<AuthStep> {
    this.phase = ExchangePhase.Running;
    let r: AuthStep;
    try {
      r = await step();
    } catch (err) {
      r = { status: 'failure', reason: (err as Error).message };
    }
    this.phase = r.status === 'continue' ? ExchangePhase.WaitingForClient : ExchangePhase.Done;
    return r;
  }
}
