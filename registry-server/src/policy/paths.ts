// JSON-path-like locations for errors: `Statement[1].Condition.IpAddress["aws:SourceIp"][0]`.
// The whole input is "". A key that is a plain identifier is written `.Key`; any other key is
// written `["key"]` with JSON string escaping, so every path reads back unambiguously.

import type { PolicyError } from './document.ts';

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function childPath(path: string, key: string): string {
  if (identifier.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** Collects errors and warnings, keeping at most `maxErrors` of each. */
export class Findings {
  readonly errors: PolicyError[] = [];
  readonly warnings: PolicyError[] = [];
  readonly #max: number;
  #droppedErrors = 0;
  #droppedWarnings = 0;

  constructor(maxErrors: number) {
    this.#max = Math.max(1, maxErrors);
  }

  error(path: string, message: string): void {
    if (this.errors.length < this.#max) this.errors.push({ path, message });
    else this.#droppedErrors++;
  }

  warn(path: string, message: string): void {
    if (this.warnings.length < this.#max) this.warnings.push({ path, message });
    else this.#droppedWarnings++;
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }

  /** Appends a closing note when some findings were dropped. */
  finish(): void {
    if (this.#droppedErrors > 0) this.errors.push({ path: '', message: `${this.#droppedErrors} more errors not shown` });
    if (this.#droppedWarnings > 0) this.warnings.push({ path: '', message: `${this.#droppedWarnings} more warnings not shown` });
  }
}
