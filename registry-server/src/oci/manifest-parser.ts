import { parseDigest } from '../digest.ts';
import { RegistryError } from '../errors.ts';
import type { ManifestReference } from '../meta/metadata-store.ts';
import { imageManifestTypes, indexTypes } from './media-types.ts';

export interface ParsedManifest {
  readonly mediaType: string;
  /** For referrers: the manifest's artifactType, else (image manifests) its config media type. */
  readonly artifactType: string | undefined;
  readonly subject: string | undefined;
  readonly annotations: string | undefined;
  readonly references: ManifestReference[];
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: unknown;
}

/**
 * Validates a manifest body against the image-spec and docker schema 2 shapes and lists the
 * content it references. `contentType` is the request's Content-Type without parameters.
 */
export function parseManifest(body: Uint8Array, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isObject(doc)) throw invalid('manifest must be a JSON object');
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2', 'schemaVersion');

  const declared = doc.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw invalid('mediaType must be a string', 'mediaType');
  if (declared !== undefined && contentType !== undefined && declared !== contentType) {
    throw invalid(`Content-Type ${contentType} does not match the manifest's mediaType ${declared}`, 'mediaType');
  }
  const mediaType = declared ?? contentType ?? inferMediaType(doc);
  if (!imageManifestTypes.has(mediaType) && !indexTypes.has(mediaType)) {
    throw invalid(`unsupported manifest media type ${mediaType.slice(0, 200)}`, 'mediaType');
  }

  const references: ManifestReference[] = [];
  let artifactType: string | undefined;
  if (doc.artifactType !== undefined) {
    if (typeof doc.artifactType !== 'string') throw invalid('artifactType must be a string', 'artifactType');
    artifactType = doc.artifactType;
  }

  if (imageManifestTypes.has(mediaType)) {
    const config = descriptor(doc.config, 'config');
    references.push({ digest: config.digest, kind: 'blob' });
    if (!Array.isArray(doc.layers)) throw invalid('layers must be an array', 'layers');
    doc.layers.forEach((l, i) => {
      const layer = descriptor(l, `layers[${i}]`);
      // Foreign (non-distributable) layers live elsewhere; the registry does not hold them.
      if (layer.urls === undefined) references.push({ digest: layer.digest, kind: 'blob' });
    });
    artifactType ??= config.mediaType;
  } else {
    if (!Array.isArray(doc.manifests)) throw invalid('manifests must be an array', 'manifests');
    doc.manifests.forEach((m, i) => {
      const child = descriptor(m, `manifests[${i}]`);
      references.push({ digest: child.digest, kind: 'manifest' });
    });
  }

  let subject: string | undefined;
  if (doc.subject !== undefined) {
    subject = descriptor(doc.subject, 'subject').digest;
    references.push({ digest: subject, kind: 'subject' });
  }

  let annotations: string | undefined;
  if (doc.annotations !== undefined) {
    if (!isObject(doc.annotations) || !Object.values(doc.annotations).every((v) => typeof v === 'string')) {
      throw invalid('annotations must map strings to strings', 'annotations');
    }
    if (Object.keys(doc.annotations).length > 0) annotations = JSON.stringify(doc.annotations);
  }

  return { mediaType, artifactType, subject, annotations, references: dedupe(references) };
}

function inferMediaType(doc: Record<string, unknown>): string {
  // Neither header nor field: OCI allows omitting mediaType, so go by shape.
  if (Array.isArray(doc.manifests)) return 'application/vnd.oci.image.index.v1+json';
  if (doc.config !== undefined) return 'application/vnd.oci.image.manifest.v1+json';
  throw invalid('cannot determine the manifest media type', 'mediaType');
}

function descriptor(value: unknown, field: string): Descriptor {
  if (!isObject(value)) throw invalid(`${field} must be a descriptor object`, field);
  if (typeof value.mediaType !== 'string' || value.mediaType.length === 0) throw invalid(`${field}.mediaType is required`, `${field}.mediaType`);
  if (typeof value.digest !== 'string') throw invalid(`${field}.digest is required`, `${field}.digest`);
  try {
    parseDigest(value.digest);
  } catch {
    throw invalid(`${field}.digest is not a valid digest`, `${field}.digest`);
  }
  if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw invalid(`${field}.size must be a non-negative integer`, `${field}.size`);
  }
  return value as unknown as Descriptor;
}

function dedupe(refs: ManifestReference[]): ManifestReference[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.kind}\0${r.digest}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string, field?: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, field === undefined ? {} : { detail: { field } });
}

export interface IndexChild {
  readonly digest: string;
  readonly platform?: { os: string; architecture: string; variant?: string };
}

/** The children of a stored (already validated) index, with their platforms. */
export function indexChildren(content: Uint8Array): IndexChild[] {
  let doc: { manifests?: { digest?: unknown; platform?: { os?: unknown; architecture?: unknown; variant?: unknown } }[] };
  try {
    doc = JSON.parse(Buffer.from(content).toString('utf8')) as typeof doc;
  } catch {
    return [];
  }
  return (doc.manifests ?? []).flatMap((m) => {
    if (typeof m.digest !== 'string') return [];
    const p = m.platform;
    const platform =
      p && typeof p.os === 'string' && typeof p.architecture === 'string'
        ? { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) }
        : undefined;
    return [{ digest: m.digest, ...(platform ? { platform } : {}) }];
  });
}
