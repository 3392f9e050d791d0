/** One line an app logged, as a test reads it back from the app's captured output. */
export interface AppLogLine {
  /** the level's name as written (`info`, `INFO`, `LOG`, ...), when the line says */
  level?: string;
  /** the logger's context (`[GraphWebhook]`, `"context":"GraphWebhook"`), when the line says */
  context?: string;
  /** the correlation id the line was logged under */
  correlationId?: string;
  /** the HTTP request's id the line was logged under */
  reqId?: string;
  /** the message */
  msg: string;
  /** the line as written */
  raw: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
/** pino-pretty's line: `[12:00:00.123] INFO: (req …) (cid …) [Context] message` */
const PRETTY = /^\[[^\]]*\]\s+([A-Za-z]+)(?:\s*\([^)]*\))?:\s?(.*)$/;
/** Nest's own console logger: `[Nest] 123  - 12/05/2026, 3:48:24 PM     LOG [Context] message` */
const NEST = /^\[Nest\]\s+\d+\s+-\s+.*?\s+(LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL)\s+(.*)$/;
const ID = '([A-Za-z0-9._:-]{1,128})';

/**
 * The log lines of an app's output (`SpawnedApp.output()`), whatever LOG_FORMAT it ran with: JSON lines (pino's
 * `msg`, `level`, `context`, `correlationId`, `reqId`), pino-pretty's text (`(req …)`, `(cid …)` when it differs, `[Context]` at the
 * start of the message), or Nest's console format. Lines that are none of these (a pretty line's indented fields,
 * a stack) are left out.
 */
export function parseAppLogs(output: string): AppLogLine[] {
  const lines: AppLogLine[] = [];
  for (const raw of output.split('\n')) {
    const text = raw.replace(ANSI, '').trimEnd();
    if (text.startsWith('{')) {
      const line = jsonLine(text, raw);
      if (line) lines.push(line);
      continue;
    }
    const pretty = PRETTY.exec(text);
    const nest = pretty ? null : NEST.exec(text);
    const match = pretty ?? nest;
    if (!match) continue;
    let rest = match[2];
    const line: AppLogLine = { level: match[1], msg: '', raw };
    for (;;) {
      const req = new RegExp(`^\\(req ${ID}\\)\\s*`).exec(rest);
      const cid = new RegExp(`^\\(cid ${ID}\\)\\s*`).exec(rest);
      const found = req ?? cid;
      if (!found) break;
      if (req) line.reqId = req[1];
      else if (cid) line.correlationId = cid[1];
      rest = rest.slice(found[0].length);
    }
    // a request's id is its correlation id, which the pretty text then prints once (libs/logging prettyMessage)
    if (line.reqId && !line.correlationId) line.correlationId = line.reqId;
    const context = /^\[([^\]]+)\]\s*/.exec(rest);
    if (context) {
      line.context = context[1];
      rest = rest.slice(context[0].length);
    }
    line.msg = rest;
    lines.push(line);
  }
  return lines;
}

function jsonLine(text: string, raw: string): AppLogLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  return {
    level: str(o.level),
    context: str(o.context),
    correlationId: str(o.correlationId),
    reqId: str(o.reqId),
    msg: str(o.msg) ?? str(o.message) ?? '',
    raw,
  };
}
