// Dockerfile reading for `npm run docker:check` (scripts/docker-steps.ts): the subset of the syntax this repository's
// Dockerfiles use (FROM ... AS, ARG, ENV, WORKDIR, COPY [--from], RUN, CMD/ENTRYPOINT in either form, USER, EXPOSE),
// with line continuations, comments, and ${VAR} / $VAR substitution from ARG and ENV as Docker does. Pure functions.
import path from 'node:path';

export interface Instruction {
  keyword: string; // upper case
  args: string; // the rest of the line, continuations joined with a space
  line: number; // 1-based line of the instruction's first line
}

export interface Stage {
  index: number;
  base: string;
  name?: string;
  instructions: Instruction[]; // after FROM
}

export interface Dockerfile {
  /** ARGs declared before the first FROM (usable in FROM, and in a stage after a bare `ARG NAME`). */
  globalArgs: Record<string, string | undefined>;
  stages: Stage[];
}

/** Join continuations (a trailing backslash), drop comments and blank lines; keep each instruction's first line. */
export function logicalLines(text: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let current: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comments are whole lines starting with #, also between continued lines (Docker skips those).
    if (trimmed.startsWith('#') || (trimmed === '' && !current)) return;
    const continued = /\\\s*$/.test(raw);
    const piece = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (current) current.text += ' ' + piece.trim();
    else current = { text: piece.trim(), line: i + 1 };
    if (!continued) {
      if (current.text.trim() !== '') out.push({ text: current.text.trim(), line: current.line });
      current = undefined;
    }
  });
  if (current && current.text.trim() !== '') out.push({ text: current.text.trim(), line: current.line });
  return out;
}

export function parseDockerfile(text: string): Dockerfile {
  const result: Dockerfile = { globalArgs: {}, stages: [] };
  for (const { text: lineText, line } of logicalLines(text)) {
    const m = /^([A-Za-z]+)\s*(.*)$/.exec(lineText);
    if (!m) throw new Error(`line ${line}: cannot read "${lineText}"`);
    const keyword = m[1].toUpperCase();
    const args = m[2].trim();
    if (keyword === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!f) throw new Error(`line ${line}: cannot read FROM "${args}"`);
      result.stages.push({ index: result.stages.length, base: f[1], name: f[2], instructions: [] });
      continue;
    }
    const stage = result.stages[result.stages.length - 1];
    if (!stage) {
      if (keyword !== 'ARG') throw new Error(`line ${line}: ${keyword} before the first FROM`);
      Object.assign(result.globalArgs, parseArg(args));
      continue;
    }
    stage.instructions.push({ keyword, args, line });
  }
  if (result.stages.length === 0) throw new Error('no FROM in the Dockerfile');
  return result;
}

/** `ARG NAME` or `ARG NAME=default` (one or more). */
export function parseArg(args: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const word of splitWords(args)) {
    const eq = word.indexOf('=');
    if (eq < 0) out[word] = undefined;
    else out[word.slice(0, eq)] = unquote(word.slice(eq + 1));
  }
  return out;
}

/** `ENV A=1 B="x y"`, or the legacy `ENV NAME value with spaces`. Values are substituted with `vars`. */
export function parseEnv(args: string, vars: Record<string, string | undefined>): Record<string, string> {
  const words = splitWords(args);
  if (words.length > 0 && !words[0].includes('=')) {
    const [name, ...rest] = args.split(/\s+/);
    return { [name]: substitute(rest.join(' '), vars) };
  }
  const out: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) throw new Error(`ENV "${word}" has no value`);
    out[word.slice(0, eq)] = substitute(unquote(word.slice(eq + 1)), vars);
  }
  return out;
}

/** Words split on unquoted whitespace; quotes kept (unquote them per word). */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (const ch of s) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (/\s/.test(ch)) {
      if (cur) words.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quote) throw new Error(`unterminated quote in "${s}"`);
  if (cur) words.push(cur);
  return words;
}

function unquote(s: string): string {
  return s.replace(
    /"([^"]*)"|'([^']*)'/g,
    (_m, d: string | undefined, q: string | undefined) => d ?? q ?? '',
  );
}

/** Docker's substitution in ADD/COPY/ENV/WORKDIR/USER: ${VAR}, $VAR, ${VAR:-default}; unset variables become ''. */
export function substitute(s: string, vars: Record<string, string | undefined>): string {
  return s.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced: string | undefined, dflt: string | undefined, bare: string | undefined) => {
      const value = vars[(braced ?? bare) as string];
      return value !== undefined && value !== '' ? value : (dflt ?? '');
    },
  );
}

/** The exec form `["node", "dist/main.js"]` or the shell form (returned as ['/bin/sh', '-c', text]). */
export function parseCommand(args: string): string[] {
  if (args.startsWith('[')) {
    const parsed: unknown = JSON.parse(args);
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
      throw new Error(`not a JSON array of strings: ${args}`);
    }
    return parsed;
  }
  return ['/bin/sh', '-c', args];
}

export interface Copy {
  from?: string; // a stage name or index (COPY --from=...)
  sources: string[];
  dest: string;
}

/** `COPY [--from=x] [--chown=..] [--chmod=..] src... dest`, or the JSON form. Substitution applied. */
export function parseCopy(args: string, vars: Record<string, string | undefined>): Copy {
  let words = args.startsWith('[') ? (JSON.parse(args) as string[]) : splitWords(args).map(unquote);
  let from: string | undefined;
  while (words.length > 0 && words[0].startsWith('--')) {
    const [flag, value] = words[0].slice(2).split('=', 2);
    if (flag === 'from') from = substitute(value, vars);
    else if (flag !== 'chown' && flag !== 'chmod' && flag !== 'link')
      throw new Error(`COPY --${flag} is not supported`);
    words = words.slice(1);
  }
  if (words.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  words = words.map((w) => substitute(w, vars));
  const sources = words.slice(0, -1);
  for (const s of sources) {
    if (/[*?[]/.test(s)) throw new Error(`COPY source with wildcards is not supported here: ${s}`);
  }
  return { from, sources, dest: words[words.length - 1] };
}

/**
 * Where one COPY source lands, Docker's rules: a directory's contents go into the destination; a file goes into
 * the destination when it ends with "/" (or there are several sources), else becomes it. Paths are image paths.
 */
export function copyTarget(
  source: string,
  isDir: boolean,
  dest: string,
  workdir: string,
  many: boolean,
): string {
  const absDest = path.posix.resolve(workdir, dest);
  if (isDir) return absDest;
  if (dest.endsWith('/') || many || dest === '.' || dest === './') {
    return path.posix.join(absDest, path.posix.basename(source));
  }
  return absDest;
}

/** .dockerignore patterns (Go filepath.Match with `**`, `!` exceptions, last match wins). */
export function dockerignore(text: string): (relPath: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).trim().replace(/^\/+/, ''));
      return { negate, re: globToRegExp(pattern) };
    });
  return (relPath: string) => {
    // A path is excluded when it or one of its parent folders matches (Docker does not descend into those).
    const parts = relPath.split('/');
    let ignored = false;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      for (const r of rules) if (r.re.test(prefix)) ignored = !r.negate;
      if (ignored) return true;
    }
    return ignored;
  };
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The stage a `COPY --from=x` names: a stage name or index. */
export function stageByRef(file: Dockerfile, ref: string): Stage {
  const stage = /^\d+$/.test(ref) ? file.stages[Number(ref)] : file.stages.find((s) => s.name === ref);
  if (!stage) throw new Error(`COPY --from=${ref}: no such stage (an external image is not supported here)`);
  return stage;
}
