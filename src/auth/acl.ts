import { readFile } from 'node:fs/promises';
import { type AclAccess, aclCoversFilter, aclMatchesTopic, aclTopicProblem } from './acl-topic.js';
import { AuthFileError } from './auth-file-error.js';
import { dollarTopicAllowed } from './dollar-topics.js';
import { trimBlanks } from './trim-blanks.js';

/** Who is asking: the CONNECT username (undefined for anonymous clients) and client id. */
export interface AclSubject {
  username?: string;
  clientId: string;
}

/**
 * How SUBSCRIBE filters are judged. `mosquitto` (default) does what the
 * Mosquitto 2 acl_file does: every subscription is accepted and each message is
 * checked for `read` on delivery. `strict` also refuses a filter unless it lies
 * entirely within a topic the client may read.
 */
export type AclSubscribeMode = 'mosquitto' | 'strict';

/** Options for AclFile.parse / load. */
export interface AclFileOptions {
  /** See AclSubscribeMode; default `mosquitto`. */
  subscribe?: AclSubscribeMode;
}

const DENY = 0;
const READ = 1;
const WRITE = 2;

/** One `topic` entry (or a pattern substituted for one client). */
interface TopicRule {
  readonly access: number;
  readonly topic: string;
}

/** One `pattern` entry, substituted per client. */
interface PatternRule {
  readonly access: number;
  readonly topic: string;
  readonly usesUsername: boolean;
}

/** A user's (or the anonymous section's) entries, denials kept apart because they win. */
interface RuleSet {
  readonly deny: TopicRule[];
  readonly allow: TopicRule[];
}

const ACCESS_WORDS = new Map<string, number>([
  ['read', READ],
  ['write', WRITE],
  ['readwrite', READ | WRITE],
  ['deny', DENY],
]);

const CACHE_LIMIT = 4096;

function accessBit(access: 'read' | 'write'): number {
  return access === 'read' ? READ : WRITE;
}

/** Replaces %c and %u the way Mosquitto does: left to right, anywhere in the topic. */
function substitute(topic: string, clientId: string, username: string | undefined): string {
  let out = '';
  for (let i = 0; i < topic.length; i++) {
    const c = topic[i];
    if (c === '%' && i + 1 < topic.length) {
      const next = topic[i + 1];
      if (next === 'c') {
        out += clientId;
        i++;
        continue;
      }
      if (next === 'u' && username !== undefined) {
        out += username;
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** The filter inside a shared subscription (`$share/<group>/<filter>`), which is what the ACL judges. */
function shareStripped(filter: string): string {
  if (!filter.startsWith('$share/')) return filter;
  const slash = filter.indexOf('/', 7);
  return slash === -1 ? '' : filter.slice(slash + 1);
}

/**
 * The ACL as it applies to one client (username + client id), with patterns
 * already substituted: cheap to keep per connection and to ask per message.
 */
export interface AclChecker {
  /** Whether this client may do `access` on topic (a topic name for read/write, a filter for subscribe). */
  check(topic: string, access: AclAccess): boolean;
}

class CompiledAcl implements AclChecker {
  readonly #user: RuleSet | undefined;
  readonly #patternDeny: TopicRule[];
  readonly #patternAllow: TopicRule[];
  readonly #strictSubscribe: boolean;

  constructor(
    user: RuleSet | undefined,
    patterns: readonly PatternRule[],
    subject: AclSubject,
    strictSubscribe: boolean,
  ) {
    this.#user = user;
    this.#strictSubscribe = strictSubscribe;
    const username = subject.username ?? undefined;
    this.#patternDeny = [];
    this.#patternAllow = [];
    // Mosquitto refuses pattern access to ids/usernames with wildcards, which could
    // otherwise widen a pattern such as `pattern readwrite devices/%c/#` to everything:
    // such a client gets no pattern rules at all.
    const dangerous =
      /[+#]/.test(subject.clientId) || (username !== undefined && /[+#]/.test(username));
    if (dangerous) return;
    for (const p of patterns) {
      if (p.usesUsername && username === undefined) continue;
      const topic = substitute(p.topic, subject.clientId, username);
      if (topic.length === 0) continue;
      const rule = { access: p.access, topic };
      (p.access === DENY ? this.#patternDeny : this.#patternAllow).push(rule);
    }
  }

  check(topic: string, access: AclAccess): boolean {
    if (!dollarTopicAllowed(topic, access)) return false;
    if (access === 'subscribe') {
      return this.#strictSubscribe
        ? this.#judge(shareStripped(topic), READ, aclCoversFilter)
        : true;
    }
    return this.#judge(topic, accessBit(access), aclMatchesTopic);
  }

  #judge(
    topic: string,
    bit: number,
    matches: (aclTopic: string, topic: string) => boolean,
  ): boolean {
    const user = this.#user;
    if (user !== undefined) {
      for (const rule of user.deny) if (matches(rule.topic, topic)) return false;
      for (const rule of user.allow) {
        if ((rule.access & bit) !== 0 && matches(rule.topic, topic)) return true;
      }
    }
    for (const rule of this.#patternDeny) if (matches(rule.topic, topic)) return false;
    for (const rule of this.#patternAllow) {
      if ((rule.access & bit) !== 0 && matches(rule.topic, topic)) return true;
    }
    return false;
  }
}

/**
 * A Mosquitto-format ACL file: `topic` entries for the anonymous section (before
 * any `user` line) or for a named user, and `pattern` entries for every client
 * with `%c`/`%u` substitution.
 */
export class AclFile {
  /** Non-fatal remarks (patterns without %c/%u, which Mosquitto also warns about). */
  readonly warnings: readonly AuthFileError[];
  readonly #anonymous: RuleSet | undefined;
  readonly #users: Map<string, RuleSet>;
  readonly #patterns: readonly PatternRule[];
  readonly #strictSubscribe: boolean;
  readonly #cache = new Map<string, AclChecker>();

  private constructor(
    anonymous: RuleSet | undefined,
    users: Map<string, RuleSet>,
    patterns: PatternRule[],
    strictSubscribe: boolean,
    warnings: AuthFileError[],
  ) {
    this.#anonymous = anonymous;
    this.#users = users;
    this.#patterns = patterns;
    this.#strictSubscribe = strictSubscribe;
    this.warnings = warnings;
  }

  /** Reads and parses an ACL file; unreadable files and bad lines are AuthFileErrors naming file and line. */
  static async load(path: string, options?: AclFileOptions): Promise<AclFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new AuthFileError(path, undefined, `cannot read ACL file: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return AclFile.parse(text, path, options);
  }

  /** Parses ACL text; a line Mosquitto would refuse is an AuthFileError with file and line. */
  static parse(text: string, file: string, options: AclFileOptions = {}): AclFile {
    let anonymous: RuleSet | undefined;
    const users = new Map<string, RuleSet>();
    const patterns: PatternRule[] = [];
    const warnings: AuthFileError[] = [];
    let user: string | undefined;
    const lines = text.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const fail = (message: string): never => {
        throw new AuthFileError(file, n + 1, message);
      };
      const line = lines[n]!.replace(/[ \t\n\v\f\r]+$/, '');
      // Mosquitto only knows comments in column 1; indented ones are accepted here too.
      if (line.replace(/^[ \t]+/, '').startsWith('#')) continue;
      // Fields are separated by spaces only (as in Mosquitto); a topic may hold tabs.
      let pos = 0;
      while (line.charCodeAt(pos) === 32) pos++;
      if (pos === line.length) continue;
      let end = line.indexOf(' ', pos);
      if (end === -1) end = line.length;
      const keyword = line.slice(pos, end);
      const rest = end < line.length ? line.slice(end + 1) : undefined;
      if (keyword === 'user') {
        const name = rest === undefined ? '' : trimBlanks(rest);
        if (name === '') fail('missing username after "user"');
        user = name;
        continue;
      }
      if (keyword !== 'topic' && keyword !== 'pattern') {
        fail(`unknown directive "${keyword}" (expected user, topic or pattern)`);
      }
      let p = 0;
      const after = rest ?? '';
      while (after.charCodeAt(p) === 32) p++;
      if (p === after.length) fail(`missing topic after "${keyword}"`);
      let q = after.indexOf(' ', p);
      if (q === -1) q = after.length;
      const first = after.slice(p, q);
      let topic = first;
      let access = READ | WRITE;
      if (q < after.length) {
        const a = ACCESS_WORDS.get(first);
        if (a === undefined) {
          fail(`invalid access "${first}" (expected read, write, readwrite or deny)`);
        }
        access = a!;
        topic = trimBlanks(after.slice(q + 1));
      }
      const problem = aclTopicProblem(topic);
      if (problem !== undefined) fail(`invalid ACL topic "${topic}": ${problem}`);
      if (keyword === 'pattern') {
        const usesClientId = topic.includes('%c');
        const usesUsername = topic.includes('%u');
        if (!usesClientId && !usesUsername) {
          warnings.push(
            new AuthFileError(file, n + 1, `pattern "${topic}" contains neither %c nor %u`),
          );
        }
        patterns.push({ access, topic, usesUsername });
        continue;
      }
      let set: RuleSet | undefined;
      if (user === undefined) {
        anonymous ??= { deny: [], allow: [] };
        set = anonymous;
      } else {
        set = users.get(user);
        if (set === undefined) {
          set = { deny: [], allow: [] };
          users.set(user, set);
        }
      }
      (access === DENY ? set.deny : set.allow).push({ access, topic });
    }
    return new AclFile(anonymous, users, patterns, options.subscribe === 'strict', warnings);
  }

  /** Number of named users with a section of their own. */
  get userCount(): number {
    return this.#users.size;
  }

  /** Compiles the rules for one client; keep the result per connection and call its check per message. */
  forSubject(subject: AclSubject): AclChecker {
    const username = subject.username ?? undefined;
    const user = username === undefined ? this.#anonymous : this.#users.get(username);
    return new CompiledAcl(user, this.#patterns, subject, this.#strictSubscribe);
  }

  /** Whether subject may do `access` on topic (a topic name for read/write, a filter for subscribe). */
  check(subject: AclSubject, topic: string, access: AclAccess): boolean {
    const username = subject.username ?? undefined;
    // Length-prefixed so that no username/client id pair can collide with another.
    const key =
      username === undefined
        ? `-${subject.clientId}`
        : `${username.length}:${username}${subject.clientId}`;
    let checker = this.#cache.get(key);
    if (checker === undefined) {
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      checker = this.forSubject(subject);
      this.#cache.set(key, checker);
    }
    return checker.check(topic, access);
  }
}
