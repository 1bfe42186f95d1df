/**
 * Mosquitto's habit when started as root: once listeners, log files and the pid file
 * are open, become the `user` option's account ('mosquitto' by default, 'nobody' if
 * that account does not exist); `user root` keeps root, with a warning.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';

// Present on POSIX, missing from the Process typings in use.
const withInitgroups = process as unknown as {
  initgroups?: (user: string, extraGroup: number) => void;
};

interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** The account's ids from /etc/passwd, else from `id` (accounts from NSS); undefined if unknown. */
export function lookupAccount(name: string): Account | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length >= 4) return { name, uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no /etc/passwd: ask id below
  }
  try {
    const id = (flag: string): number =>
      Number(execFileSync('id', [flag, name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
    return { name, uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

/**
 * Switches to the configured user when running as root. Returns false (after logging
 * why) when that is impossible, which stops the broker as it stops Mosquitto.
 */
export function dropPrivileges(user: string, log: Logger): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return true;
  if (user === 'root') {
    log.warn('Warning: Heron should not be run as root/administrator.');
    return true;
  }
  let account = lookupAccount(user);
  if (account === undefined) {
    if (user !== 'mosquitto') {
      log.error(`Error: Unable to drop privileges to '${user}' because this user does not exist.`);
      return false;
    }
    log.warn(
      `Warning: Unable to drop privileges to '${user}' because this user does not exist. Trying 'nobody' instead.`,
    );
    account = lookupAccount('nobody');
    if (account === undefined) {
      log.error("Error: Unable to drop privileges to 'nobody'.");
      return false;
    }
  }
  const steps: Array<[string, () => void]> = [
    ['groups', () => withInitgroups.initgroups?.(account.name, account.gid)],
    ['gid', () => process.setgid?.(account.gid)],
    ['uid', () => process.setuid?.(account.uid)],
  ];
  for (const [what, step] of steps) {
    try {
      step();
    } catch (e) {
      log.error(`Error setting ${what} whilst dropping privileges: ${(e as Error).message}.`);
      return false;
    }
  }
  log.debug(`Running as user ${account.name}.`);
  return true;
}
