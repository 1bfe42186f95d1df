import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve, sep } from 'node:path';

/** A scratch project with heron-mqtt installed from the tarball `npm pack` makes. */
export interface InstalledPackage {
  /** The project directory (its node_modules/heron-mqtt is the unpacked tarball). */
  dir: string;
  /** Deletes the project. */
  remove(): Promise<void>;
}

/**
 * Packs this repository as npm would publish it (built dist/, the `files` list,
 * the `exports` map) and unpacks it into a new project's node_modules, so imports
 * resolve exactly as they would for a user. The package's dependencies and the
 * type packages are symlinked from this repository's node_modules instead of
 * being fetched: the test stays offline. Expects `npm run build` to have run.
 */
export async function installPackage(): Promise<InstalledPackage> {
  const repo = process.cwd();
  const dir = await mkdtemp(join(tmpdir(), 'heron-installed-'));
  try {
    // --ignore-scripts: `prepare` would rebuild dist/ under the running tests. Under
    // `npm test` PATH starts with node_modules/.bin, where node-red's own npm 10 sits,
    // and that npm runs `prepare` on pack in spite of the flag: use the system's npm.
    const path = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((d) => !d.includes(`node_modules${sep}`) && !d.endsWith('node_modules'))
      .join(delimiter);
    const out = execFileSync(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', dir],
      {
        cwd: repo,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PATH: path },
      },
    );
    const [{ filename }] = JSON.parse(out) as [{ filename: string }];
    const pkgDir = join(dir, 'node_modules', 'heron-mqtt');
    await mkdir(pkgDir, { recursive: true });
    execFileSync('tar', ['-xzf', join(dir, filename), '-C', pkgDir, '--strip-components=1']);
    const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of [...Object.keys(manifest.dependencies ?? {}), '@types']) {
      const link = join(dir, 'node_modules', name);
      await mkdir(resolve(link, '..'), { recursive: true });
      await symlink(join(repo, 'node_modules', name), link, 'dir');
    }
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'heron-user', private: true, type: 'module' }),
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
