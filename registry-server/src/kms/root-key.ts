// The root key: 32 bytes that wrap every KMS key's material. It never lives in the metadata
// store (a copy of the database alone must not decrypt anything), so it comes from the
// environment, from a key file, or, for the single-node default, from a file generated once
// under the data directory.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const rootKeyBytes = 32;
export const rootKeyEnv = 'BERTH_ROOT_KEY';
export const rootKeyFileName = 'root.key';

export interface RootKeyOptions {
  readonly env: NodeJS.ProcessEnv;
  /** A configured key file (the rootKeyFile setting); it must exist. */
  readonly keyFile?: string | undefined;
  readonly dataDir: string;
  /** Filesystem storage with SQLite: a generated key may live next to the data it protects. */
  readonly embeddedDefault: boolean;
}

export class RootKeyError extends Error {
  override readonly name = 'RootKeyError';
}

const howToProvide =
  `set ${rootKeyEnv} to 32 random bytes in base64 (e.g. the output of "openssl rand -base64 32"), ` +
  'or set rootKeyFile to a file holding them; every replica must use the same key';

/** Strict base64 (or base64url) of exactly 32 bytes; Buffer.from alone would accept junk. */
function decodeKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const std = trimmed.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(std)) throw new RootKeyError(`${source} is not base64; ${howToProvide}`);
  const key = Buffer.from(std, 'base64');
  if (key.toString('base64').replace(/=+$/, '') !== std.replace(/=+$/, '') || key.length !== rootKeyBytes) {
    throw new RootKeyError(`${source} must decode to exactly ${rootKeyBytes} bytes (it decodes to ${key.length}); ${howToProvide}`);
  }
  return key;
}

async function readKeyFile(path: string): Promise<Buffer> {
  const raw = await readFile(path);
  // Raw 32 bytes are accepted as well as base64 text (what Berth writes).
  if (raw.length === rootKeyBytes) return raw;
  return decodeKey(raw.toString('utf8'), `root key file ${path}`);
}

/**
 * Writes a fresh key to `path` without ever exposing a partial or world-readable file: written
 * to a private temporary file, flushed, then hard-linked into place. link() fails if the file
 * exists, so two processes starting together agree on whichever key landed first.
 */
async function generateKeyFile(path: string): Promise<Buffer> {
  const key = randomBytes(rootKeyBytes);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${key.toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readKeyFile(path);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  // The directory entry itself must survive a crash, or the next start would make another key.
  const dir = await open(join(path, '..'), 'r').catch(() => undefined);
  if (dir) await dir.sync().catch(() => undefined).finally(() => dir.close());
  return key;
}

/**
 * The root key. Precedence: BERTH_ROOT_KEY, then the configured key file, then (embedded default
 * only) <dataDir>/root.key, generated on first start. S3 and PostgreSQL deployments run several
 * replicas with no shared disk, so there a missing key is an error rather than a silent new key.
 */
export async function loadRootKey(options: RootKeyOptions): Promise<Buffer> {
  const fromEnv = options.env[rootKeyEnv];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return decodeKey(fromEnv, rootKeyEnv);
  if (options.keyFile !== undefined) {
    try {
      return await readKeyFile(options.keyFile);
    } catch (err) {
      if (err instanceof RootKeyError) throw err;
      throw new RootKeyError(`cannot read the root key file ${options.keyFile}: ${(err as Error).message}; ${howToProvide}`);
    }
  }
  if (!options.embeddedDefault) {
    throw new RootKeyError(`no root key: with S3 storage or PostgreSQL metadata Berth does not generate one; ${howToProvide}`);
  }
  const path = join(options.dataDir, rootKeyFileName);
  try {
    return await readKeyFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (err instanceof RootKeyError) throw err;
      throw new RootKeyError(`cannot read the root key file ${path}: ${(err as Error).message}`);
    }
  }
  await mkdir(options.dataDir, { recursive: true });
  return generateKeyFile(path);
}
