/** Log lines for a person at a terminal: time, level, message, then the other fields as key=value. */
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const COLORS: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[31m' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app']);

/** A stream that takes pino's JSON lines and writes them pretty to `out`. */
export function prettyLogStream(out: NodeJS.WritableStream, color: boolean): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        out.write(`${prettyLine(pending.slice(0, newline), color)}\n`);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
      done();
    },
  });
}

/** One JSON log line made readable (a line that is not JSON is kept as it is). */
export function prettyLine(line: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof record.level === 'number' ? record.level : 30;
  const time = new Date(typeof record.time === 'number' ? record.time : Date.now())
    .toTimeString()
    .slice(0, 8);
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const name = LEVELS[level] ?? String(level);
  const shown = color && COLORS[level] !== undefined ? `${COLORS[level]}${name}\x1b[0m` : name;
  return `${time} ${shown} ${String(record.msg ?? '')}${fields === '' ? '' : `  ${fields}`}`;
}
