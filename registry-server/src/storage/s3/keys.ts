import { parseDigest } from '../../digest.ts';

const uploadIdPattern = /^[A-Za-z0-9_-]{1,128}$/;
// Zero-padded so that the lexicographic order of a listing is the byte order of the upload.
const offsetDigits = 16;

/**
 * Object key layout under a prefix:
 *   <prefix>blobs/<algorithm>/<first two hex>/<hex>      published, immutable content
 *   <prefix>uploads/<id>/<offset, 16 digits>             the chunks of an in-progress upload
 */
export class KeyLayout {
  readonly prefix: string;

  constructor(prefix = '') {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  get uploadsRoot(): string {
    return `${this.prefix}uploads/`;
  }

  uploadPrefix(id: string): string {
    // Ids come from us, but a store must never be talked into touching keys outside its upload.
    if (!uploadIdPattern.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`);
    return `${this.uploadsRoot}${id}/`;
  }

  chunkKey(id: string, offset: number): string {
    return `${this.uploadPrefix(id)}${String(offset).padStart(offsetDigits, '0')}`;
  }

  /** The offset a chunk key stands for, or undefined for keys that are not ours. */
  chunkOffset(id: string, key: string): number | undefined {
    const rest = key.slice(this.uploadPrefix(id).length);
    return /^\d{16}$/.test(rest) ? Number(rest) : undefined;
  }

  /** The upload id a key under uploads/ belongs to, if it is a chunk key. */
  uploadIdOf(key: string): string | undefined {
    const m = /^([A-Za-z0-9_-]{1,128})\/\d{16}$/.exec(key.slice(this.uploadsRoot.length));
    return key.startsWith(this.uploadsRoot) ? m?.[1] : undefined;
  }

  blobKey(digest: string): string {
    const d = parseDigest(digest);
    return `${this.prefix}blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`;
  }
}
