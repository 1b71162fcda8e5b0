// Certificates for go-plugin's automatic mutual TLS ("AutoMTLS"), built without OpenSSL's CLI:
// node:crypto makes the ECDSA key and the signature, and a small DER encoder below lays out
// the X.509 v3 certificate (RFC 5280).
//
// What go-plugin expects (hashicorp/go-plugin mtls.go, server.go, client.go):
// - each side makes a throwaway self-signed certificate; the host's arrives in the plugin's
//   environment as PEM in PLUGIN_CLIENT_CERT, the plugin's goes back as the sixth field of the
//   handshake line: the DER, base64 with the standard alphabet and no padding
//   (base64.RawStdEncoding);
// - each side trusts exactly the other's certificate as its only root, and the host verifies
//   the server name "localhost", so the certificate carries the DNS name localhost in its
//   subjectAltName (Go ignores the common name for host checks);
// - go-plugin's own certificates are CA:TRUE with keyCertSign, digitalSignature and the
//   serverAuth + clientAuth extended key usages; so are these, which lets OpenSSL (Node) and
//   Go accept a self-signed leaf that is also its own trust anchor.
// go-plugin uses P-521; this uses P-256 by default (ecdsa-with-SHA256), which every TLS stack
// supports; P-384 and P-521 are available.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// ---------------------------------------------------------------------------------------
// DER

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => der(0x30, ...items);
export const set = (...items: Buffer[]): Buffer => der(0x31, ...items);
export const octetString = (b: Buffer): Buffer => der(0x04, b);
export const utf8String = (s: string): Buffer => der(0x0c, Buffer.from(s, 'utf8'));
export const booleanTrue = (): Buffer => der(0x01, Buffer.from([0xff]));
/** [n] EXPLICIT, constructed. */
export const explicit = (n: number, inner: Buffer): Buffer => der(0xa0 | n, inner);

/** A non-negative INTEGER from big-endian bytes. */
export function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let v = bytes.subarray(i);
  if (v.length === 0) v = Buffer.from([0]);
  if ((v[0]! & 0x80) !== 0) v = Buffer.concat([Buffer.from([0]), v]);
  return der(0x02, v);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`integer out of range: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Buffer.from(bytes.length ? bytes : [0]));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new Error(`bad OID ${dotted}`);
    return Number(s);
  });
  if (arcs.length < 2) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  const base128 = (v: number): void => {
    const chunk: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  };
  base128(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) base128(a);
  return der(0x06, Buffer.from(out));
}

/** BIT STRING holding whole bytes (0 unused bits). */
export const bitStringBytes = (b: Buffer): Buffer => der(0x03, Buffer.from([0]), b);

/** BIT STRING of named bits (bit 0 = most significant bit of the first byte), DER-minimal. */
export function namedBits(bits: number[]): Buffer {
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const b of bits) bytes[Math.floor(b / 8)]! |= 0x80 >> (b % 8);
  const unused = 7 - (max % 8);
  return der(0x03, Buffer.from([unused]), bytes);
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
export function time(date: Date): Buffer {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const y = date.getUTCFullYear();
  const rest = `${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return der(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'ascii'));
  return der(0x18, Buffer.from(`${p(y, 4)}${rest}`, 'ascii'));
}

// ---------------------------------------------------------------------------------------
// X.509

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export type Curve = 'P-256' | 'P-384' | 'P-521';

const CURVES: Record<Curve, { nodeName: string; hash: string; sigOid: string }> = {
  'P-256': { nodeName: 'prime256v1', hash: 'sha256', sigOid: '1.2.840.10045.4.3.2' },
  'P-384': { nodeName: 'secp384r1', hash: 'sha384', sigOid: '1.2.840.10045.4.3.3' },
  'P-521': { nodeName: 'secp521r1', hash: 'sha512', sigOid: '1.2.840.10045.4.3.4' },
};

export interface GeneratedCertificate {
  /** The certificate, DER. */
  der: Buffer;
  /** The certificate, PEM. */
  certPem: string;
  /** The private key, PKCS#8 PEM. */
  keyPem: string;
  privateKey: KeyObject;
  curve: Curve;
  /** The subject Name, DER (the issuer of certificates this one signs). */
  subjectDer: Buffer;
  subjectKeyId: Buffer;
}

export interface CertificateOptions {
  commonName?: string;
  organization?: string;
  dnsNames?: string[];
  curve?: Curve;
  /** Start of validity; defaults to 30 seconds ago (clock skew), as go-plugin does. */
  notBefore?: Date;
  notAfter?: Date;
  /** Sign with this certificate's key (and name it as issuer) instead of self-signing. */
  issuer?: GeneratedCertificate;
  /** CA:TRUE with keyCertSign (default, like go-plugin); false makes a plain leaf. */
  isCA?: boolean;
}

export function toPem(derBytes: Buffer, label = 'CERTIFICATE'): string {
  const b64 = derBytes.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function ecPoint(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) throw new Error('not an EC public key');
  return Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), booleanTrue(), octetString(value)) : seq(oid(id), octetString(value));
}

/** An ECDSA key pair and an X.509 v3 certificate for it, self-signed unless `issuer` is given. */
export function generateCertificate(options: CertificateOptions = {}): GeneratedCertificate {
  const curve = options.curve ?? 'P-256';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: CURVES[curve].nodeName });
  const commonName = options.commonName ?? 'localhost';
  const dnsNames = options.dnsNames ?? ['localhost'];
  const isCA = options.isCA ?? true;
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - 30_000);
  // go-plugin: 262980 hours (30 years). The certificate dies with the process anyway.
  const notAfter = options.notAfter ?? new Date(now + 262_980 * 3_600_000);

  const subjectDer = seq(
    ...(options.organization === '' ? [] : [set(seq(oid(OID.organization), utf8String(options.organization ?? 'Berth')))]),
    set(seq(oid(OID.commonName), utf8String(commonName))),
  );
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subjectKeyId = createHash('sha1').update(ecPoint(publicKey)).digest();

  const signer = options.issuer;
  const signingCurve = signer ? signer.curve : curve;
  const sigAlg = seq(oid(CURVES[signingCurve].sigOid));

  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and never zero

  const extensions: Buffer[] = [
    extension(OID.keyUsage, true, isCA ? namedBits([0, 5]) : namedBits([0])), // digitalSignature, keyCertSign
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.basicConstraints, true, isCA ? seq(booleanTrue()) : seq()),
    extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)),
  ];
  if (signer) {
    extensions.push(extension(OID.authorityKeyIdentifier, false, seq(der(0x80, signer.subjectKeyId))));
  }
  if (dnsNames.length > 0) {
    // GeneralName dNSName is [2] IMPLICIT IA5String.
    extensions.push(extension(OID.subjectAltName, false, seq(...dnsNames.map((n) => der(0x82, Buffer.from(n, 'ascii'))))));
  }

  const tbs = seq(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    sigAlg,
    signer ? signer.subjectDer : subjectDer,
    seq(time(notBefore), time(notAfter)),
    subjectDer,
    spki,
    explicit(3, seq(...extensions)),
  );
  // node:crypto's ECDSA signatures are DER Ecdsa-Sig-Value, as X.509 wants.
  const signature = sign(CURVES[signingCurve].hash, tbs, signer ? signer.privateKey : privateKey);
  const certDer = seq(tbs, sigAlg, bitStringBytes(signature));

  return {
    der: certDer,
    certPem: toPem(certDer),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    privateKey,
    curve,
    subjectDer,
    subjectKeyId,
  };
}

/** go-plugin's encoding of the server certificate in the handshake line. */
export function handshakeCertEncoding(certDer: Buffer): string {
  return certDer.toString('base64').replace(/=+$/, '');
}

/** The inverse of handshakeCertEncoding (tolerates padding). */
export function decodeHandshakeCert(field: string): Buffer {
  return Buffer.from(field, 'base64');
}

/** The public key of a certificate, for tests and pinning diagnostics. */
export function certificatePublicKey(certPem: string): KeyObject {
  return createPublicKey(certPem);
}
