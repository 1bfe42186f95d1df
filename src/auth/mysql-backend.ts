import type { Pool, PoolConnection } from 'mysql2/promise';
import { lazyRequire } from '../lazy-require.js';
import type { MysqlAuthSettings } from './plugin-options.js';
import { escapeLike, type SqlStatement } from './sql-template.js';

/** The values a statement's placeholders may receive. */
export interface SqlValues {
  username: string;
  clientid: string;
  access: number;
}

/** Lookups waiting for a pooled connection beyond this many fail at once (a CONNECT storm against a slow database). */
const QUEUE_LIMIT = 500;

/** A lookup that got no answer in time (the database hangs, or every connection is busy). */
class MysqlTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MysqlTimeoutError';
  }
}

/**
 * The three lookups of the plugins' MySQL backends over a small connection
 * pool. Every statement is prepared with placeholders; user input never
 * becomes SQL text. Errors (the database is down, a query is broken) reject:
 * the caller decides what a failed lookup means.
 */
export class MysqlAuthBackend {
  private readonly pool: Pool;
  private readonly s: MysqlAuthSettings;

  /** Milliseconds a lookup may take, waiting for a connection included. */
  private readonly timeoutMs: number;

  /**
   * `timeoutMs` bounds each lookup: a database that accepts connections but
   * never answers (hung, locked, SIGSTOPped) must refuse CONNECTs with
   * "server unavailable", not hold them open for ever.
   */
  constructor(settings: MysqlAuthSettings, timeoutMs = 5_000) {
    this.s = settings;
    this.timeoutMs = timeoutMs;
    // The pool connects lazily, so the broker starts (and serves other clients)
    // while the database is down, and reconnects by itself once it is back.
    // Required here, not at start: only brokers with database auth load the MySQL driver.
    const { createPool } = lazyRequire<typeof import('mysql2/promise')>('mysql2/promise');
    this.pool = createPool({
      ...(settings.socketPath !== undefined
        ? { socketPath: settings.socketPath }
        : { host: settings.host, port: settings.port }),
      database: settings.database,
      ...(settings.user !== undefined ? { user: settings.user } : {}),
      ...(settings.password !== undefined ? { password: settings.password } : {}),
      connectionLimit: 4,
      queueLimit: QUEUE_LIMIT,
      maxIdle: 2,
      idleTimeout: 60_000,
      connectTimeout: 5_000,
      enableKeepAlive: true,
    });
    // An idle pooled connection that dies (server restart) reports here; the pool drops it.
    this.pool.on('connection', (c) => c.on('error', () => {}));
  }

  /** The stored password hash of a user, or undefined when the query answers no single row. */
  async passwordHash(username: string, clientid: string): Promise<string | undefined> {
    const rows = await this.run(this.s.userQuery, { username, clientid, access: 0 });
    // auth-plug: "any other number of rows is considered to be user not found".
    if (rows.length !== 1) return undefined;
    const v = rows[0]![0];
    return v === null || v === undefined ? undefined : String(v);
  }

  /** Whether the superuser query answers a non-zero count for this user. */
  async isSuperuser(username: string): Promise<boolean> {
    if (this.s.superQuery === undefined) return false;
    const rows = await this.run(this.s.superQuery, { username, clientid: '', access: 0 });
    if (rows.length !== 1) return false;
    const v = rows[0]![0];
    return v !== null && v !== undefined && Number(v) !== 0;
  }

  /** The topic filters the ACL query answers for a user and access number (1 read, 2 write, 4 subscribe). */
  async aclFilters(username: string, access: number): Promise<string[]> {
    if (this.s.aclQuery === undefined) return [];
    const rows = await this.run(this.s.aclQuery, { username, clientid: '', access });
    const out: string[] = [];
    for (const r of rows) {
      const v = r[0];
      if (v !== null && v !== undefined) out.push(String(v));
    }
    return out;
  }

  /** Closes the pool's connections. */
  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Rows as arrays: the plugins read column 0 whatever its name. */
  private async run(st: SqlStatement, values: SqlValues): Promise<unknown[][]> {
    const params: (string | number)[] = st.args.map((a) => values[a]);
    // A user name is a value, not a pattern: `%` must not match every row of a LIKE query.
    if (st.likeArgs !== undefined)
      for (const k of st.likeArgs) params[k] = escapeLike(String(params[k]));
    const deadline = Date.now() + this.timeoutMs;
    const conn = await this.connection(deadline);
    let healthy = false;
    try {
      const [rows] = await conn.execute(
        { sql: st.sql, rowsAsArray: true, timeout: Math.max(1, deadline - Date.now()) },
        params,
      );
      healthy = true;
      return rows as unknown as unknown[][];
    } catch (err) {
      // A query error (bad SQL) leaves the connection usable; a timeout leaves it mid-command.
      healthy = typeof (err as { sqlState?: unknown }).sqlState === 'string';
      if ((err as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT')
        throw new MysqlTimeoutError(`no answer from the database within ${this.timeoutMs} ms`);
      throw err;
    } finally {
      if (healthy) conn.release();
      else conn.destroy();
    }
  }

  /** A pooled connection, or MysqlTimeoutError when none is free before `deadline`. */
  private connection(deadline: number): Promise<PoolConnection> {
    return new Promise((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        reject(new MysqlTimeoutError(`no database connection within ${this.timeoutMs} ms`));
      }, deadline - Date.now());
      this.pool.getConnection().then(
        (c) => {
          if (!waiting) return c.release(); // the lookup gave up; hand it to the next one
          waiting = false;
          clearTimeout(timer);
          resolve(c);
        },
        (err) => {
          if (!waiting) return;
          waiting = false;
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}
