import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { finalizeConfig } from './finalize.js';
import { listIncludeFiles } from './include-dir.js';
import { handlePluginOption, OPTIONS, PLUGIN_OPTION_PREFIXES, suggestOption } from './options.js';
import {
  type FileState,
  newParseState,
  type OptionContext,
  type ParseState,
} from './parse-state.js';
import type { ConfigWarningKind, HeronConfig } from './types.js';
import { type ConfigLine, lineError, splitWords, text as textValue } from './values.js';

/** Knobs for parsing; the defaults match running the broker. */
export interface ParseOptions {
  /** Directory relative paths (and include_dir) are resolved against. Default: process.cwd(). */
  cwd?: string;
  /** Ports given with -p: used only in local-only mode, like Mosquitto. */
  commandLinePorts?: number[];
}

/**
 * Parses mosquitto.conf text into a finished configuration. `file` names the
 * text in messages. Pure apart from include_dir, which reads the named directory.
 */
export function parseConfigText(
  text: string,
  file: string,
  options: ParseOptions = {},
): HeronConfig {
  const st = newParseState(options.cwd ?? process.cwd());
  readText(st, text, file, 0, file);
  return finalizeConfig(st, options.commandLinePorts ?? []);
}

/**
 * Reads a configuration file (and its include_dir files). A missing or
 * unreadable file is a ConfigError naming it.
 */
export async function loadConfigFile(
  path: string,
  options: ParseOptions = {},
): Promise<HeronConfig> {
  const cwd = options.cwd ?? process.cwd();
  const full = resolve(cwd, path);
  let content: string;
  try {
    if ((await stat(full)).isDirectory()) {
      throw new ConfigError(`'${path}' is a directory, not a configuration file`, { file: path });
    }
    content = await readFile(full, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read configuration file: ${describeFsError(err)}`, {
      file: path,
    });
  }
  return parseConfigText(content, path, { ...options, cwd });
}

/** "no such file or directory" rather than a stack-laden Node error. */
function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file or directory';
  if (e.code === 'EACCES') return 'permission denied';
  return e.message ?? String(err);
}

/** Feeds one file's text through the option handlers. */
function readText(
  st: ParseState,
  content: string,
  file: string,
  level: number,
  mainFile: string,
): void {
  st.cfg.sources.push(file);
  const fs: FileState = { level, listener: st.defaultListener };
  const ctx: OptionContext = {
    st,
    fs,
    warn: (l: ConfigLine, kind: ConfigWarningKind, message: string) => {
      st.cfg.warnings.push({ file: l.file, line: l.line, option: l.option, message, kind });
    },
  };
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i]!;
    if (i === 0 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
    const trimmed = raw.trim();
    // Mosquitto only knows comments in column 1; an indented '#' is a comment here too.
    if (trimmed.length === 0 || trimmed.startsWith('#')) continue;
    const sp = trimmed.search(/[ \t]/);
    const option = sp < 0 ? trimmed : trimmed.slice(0, sp);
    const rest = sp < 0 ? '' : trimmed.slice(sp).trim();
    const l: ConfigLine = { file, line: i + 1, option, words: splitWords(rest), rest };
    if (trimmed.includes('\ufffd')) throw lineError(l, 'the line is not valid UTF-8');
    if (option === 'include_dir') {
      includeDir(st, ctx, l, mainFile);
      continue;
    }
    const prefix = PLUGIN_OPTION_PREFIXES.find((pfx) => option.startsWith(pfx));
    if (prefix) {
      handlePluginOption(ctx, l, prefix);
      continue;
    }
    const def = OPTIONS.get(option);
    if (!def) {
      const hint = suggestOption(option);
      throw new ConfigError(`unknown option${hint ? ` (did you mean '${hint}'?)` : ''}`, {
        file,
        line: i + 1,
        option,
      });
    }
    def.handle(ctx, l);
  }
}

/** `include_dir DIR`: reads DIR/*.conf in Mosquitto's order, from the main file only. */
function includeDir(st: ParseState, ctx: OptionContext, l: ConfigLine, mainFile: string): void {
  if (ctx.fs.level > 0) {
    ctx.warn(l, 'ignored', 'only read in the main configuration file, ignored here');
    return;
  }
  const dir = textValue(l, 'a directory');
  const full = resolve(st.cwd, dir);
  let names: string[];
  try {
    if (!statSync(full).isDirectory()) throw lineError(l, `'${dir}' is not a directory`);
    names = listIncludeFiles(full);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw lineError(l, `cannot open directory '${dir}': ${describeFsError(err)}`);
  }
  const main = resolve(st.cwd, mainFile);
  for (const name of names) {
    const shown = join(dir, name);
    if (resolve(full, name) === main) {
      throw lineError(l, `'${dir}' contains the main configuration file itself`);
    }
    let content: string;
    try {
      content = readFileSync(resolve(full, name), 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read configuration file: ${describeFsError(err)}`, {
        file: shown,
      });
    }
    readText(st, content, shown, 1, mainFile);
  }
}
