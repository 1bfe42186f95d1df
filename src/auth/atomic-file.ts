import { randomBytes } from 'node:crypto';
import { chown, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces a file's contents all at once (temp file in the same directory,
 * fsync, rename), so a broker reloading the file never sees half of it and a
 * crash never leaves it truncated. An existing file keeps its mode and, where
 * permitted, its owner; a new one gets `createMode`. Symlinks are followed so
 * the link stays a link.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  createMode = 0o600,
): Promise<void> {
  let target = path;
  let mode = createMode;
  let owner: { uid: number; gid: number } | undefined;
  try {
    target = await realpath(path);
    const st = await stat(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.chmod(mode);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  if (
    owner !== undefined &&
    (owner.uid !== process.getuid?.() || owner.gid !== process.getgid?.())
  ) {
    await chown(tmp, owner.uid, owner.gid).catch(() => {});
  }
  try {
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
