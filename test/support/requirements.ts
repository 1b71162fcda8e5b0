// Tests that need a tool or a service. AVA settles skips when tests are registered, so
// availability is decided first: with it the tests run; without it they are registered as
// skipped, with the reason logged by an availability test, except under CI=true, where that test
// fails (CI must provide what the suite needs) and the tests run and fail too.
import { spawnSync } from 'node:child_process';
import test from 'ava';

export const inCi = process.env.CI === 'true';

export interface Requirement {
  /** Why it is missing; undefined when available. */
  readonly missing: string | undefined;
  /** True when the tests are registered as skipped (missing, outside CI). */
  readonly skipped: boolean;
  readonly test: typeof test | typeof test.skip;
  readonly serial: typeof test.serial | typeof test.serial.skip;
  /** Throws the reason when it is missing (for hooks and helpers). */
  check(): void;
}

export function requirement(what: string, missing: string | undefined): Requirement {
  if (missing !== undefined) {
    test(`${what}: available`, (t) => {
      if (inCi) t.fail(`CI=true but ${missing}`);
      else {
        t.log(`skipping the tests that need ${what}: ${missing}`);
        t.pass();
      }
    });
  }
  const skipped = missing !== undefined && !inCi;
  return {
    missing,
    skipped,
    test: skipped ? test.skip : test,
    serial: skipped ? test.serial.skip : test.serial,
    check() {
      if (missing !== undefined) throw new Error(`${inCi ? 'CI=true but ' : ''}${missing}`);
    },
  };
}

/** Undefined when `bin --version` runs; otherwise how to get it. */
export function commandMissing(bin: string, install: string): string | undefined {
  return spawnSync(bin, ['--version'], { encoding: 'utf8' }).status === 0 ? undefined : `${bin} not found (${install})`;
}

export const skopeoBin = process.env.SKOPEO ?? 'skopeo';
/** skopeo, as the end-to-end suites need it. */
export const skopeoRequirement = (): Requirement =>
  requirement('skopeo', commandMissing(skopeoBin, `tried "${skopeoBin}"; install it, e.g. apt-get install skopeo, or set SKOPEO=/path/to/skopeo`));
