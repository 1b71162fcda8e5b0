// Logs to stderr as hclog JSON lines, which go-plugin (Terraform's plugin client) parses into
// leveled log entries: "@level", "@message", "@timestamp" and the remaining keys as fields
// (go-plugin log_entry.go). The timestamp must have exactly six fractional digits, or
// go-plugin rejects the line as JSON and logs it verbatim at debug level.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel | 'off', number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };

export interface Logger {
  trace(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger adding these fields to every line. */
  with(fields: Record<string, unknown>): Logger;
  isEnabled(level: LogLevel): boolean;
}

/** hclog's "2006-01-02T15:04:05.000000Z07:00" in UTC. */
export function hclogTimestamp(date: Date = new Date()): string {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}000Z`;
}

/**
 * The threshold from the environment Terraform passes through: BERTH_LOG_LEVEL,
 * TF_LOG_PROVIDER_BERTH, TF_LOG_PROVIDER, then TF_LOG (the first one set wins); "info" when
 * none is. Terraform itself records provider logs only when TF_LOG / TF_LOG_PROVIDER ask it to,
 * so the threshold here mainly keeps trace lines from being produced for nothing.
 */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel | 'off' {
  const raw = env.BERTH_LOG_LEVEL || env.TF_LOG_PROVIDER_BERTH || env.TF_LOG_PROVIDER || env.TF_LOG;
  if (!raw) return 'info';
  const v = raw.trim().toLowerCase();
  if (v === 'off') return 'off';
  if (v === 'warning') return 'warn';
  if (v in ORDER) return v as LogLevel;
  return 'trace'; // TF_LOG=JSON and other truthy values mean "everything" to Terraform
}

function serialize(value: unknown): unknown {
  if (value instanceof Error) return value.stack ?? value.message;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

export interface LoggerOptions {
  level?: LogLevel | 'off';
  /** "@module" of every line; Terraform prefixes it with the provider's name. */
  module?: string;
  write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? levelFromEnv()];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const make = (bound: Record<string, unknown>): Logger => {
    const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>): void => {
      if (ORDER[level] < threshold) return;
      const entry: Record<string, unknown> = {
        '@level': level,
        '@message': message,
        '@module': options.module ?? 'berth',
        '@timestamp': hclogTimestamp(),
      };
      for (const [k, v] of Object.entries({ ...bound, ...fields })) {
        if (v !== undefined) entry[k] = serialize(v);
      }
      let line: string;
      try {
        line = JSON.stringify(entry);
      } catch {
        line = JSON.stringify({ '@level': level, '@message': message, '@module': entry['@module'], '@timestamp': entry['@timestamp'] });
      }
      try {
        write(`${line}\n`);
      } catch {
        // stderr is gone (the host exited): nothing left to tell.
      }
    };
    return {
      trace: (m, f) => emit('trace', m, f),
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      with: (fields) => make({ ...bound, ...fields }),
      isEnabled: (level) => ORDER[level] >= threshold,
    };
  };
  return make({});
}
