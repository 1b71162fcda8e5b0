// Helpers for building protocol values in handlers.
import type { AttributePath, AttributePathStep, Diagnostic, Timestamp } from './types.ts';

export function errorDiagnostic(summary: string, detail?: string, attribute?: AttributePath): Diagnostic {
  return { severity: 'ERROR', summary, ...(detail ? { detail } : {}), ...(attribute ? { attribute } : {}) };
}

export function warningDiagnostic(summary: string, detail?: string, attribute?: AttributePath): Diagnostic {
  return { severity: 'WARNING', summary, ...(detail ? { detail } : {}), ...(attribute ? { attribute } : {}) };
}

export const step = {
  attribute: (name: string): AttributePathStep => ({ attribute_name: name }),
  key: (key: string): AttributePathStep => ({ element_key_string: key }),
  index: (index: number): AttributePathStep => ({ element_key_int: index }),
};

/** A path from steps: strings are attribute names, numbers list indexes; use `step.key` for map keys. */
export function attributePath(...steps: (string | number | AttributePathStep)[]): AttributePath {
  return {
    steps: steps.map((s) => (typeof s === 'string' ? step.attribute(s) : typeof s === 'number' ? step.index(s) : s)),
  };
}

export function timestampFromDate(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function hasErrors(diagnostics: readonly Diagnostic[] | undefined): boolean {
  return (diagnostics ?? []).some((d) => d.severity === 'ERROR');
}

/** The diagnostic a handler's unexpected exception becomes. */
export function unexpectedErrorDiagnostic(rpc: string, err: unknown): Diagnostic {
  const message = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error && err.stack ? `\n\n${err.stack}` : '';
  return errorDiagnostic(
    `Unexpected error in ${rpc}`,
    `The Berth provider failed while handling ${rpc}: ${message}\n\nThis is a bug in the provider; please report it with this message.${stack}`,
  );
}
