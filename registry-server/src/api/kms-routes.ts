// Routes for KMS: keys and aliases as resources, the key lifecycle actions that are not plain
// updates (rotate, schedule and cancel deletion), the cryptographic operations and the audit trail.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.ts';
import { KmsAliasHandler, KmsKeyHandler } from '../kms/handlers.ts';
import type { KeyService, KmsCaller } from '../kms/key-service.ts';
import {
  AuditPage,
  AuditQuery,
  DecryptRequest,
  DecryptResponse,
  EncryptRequest,
  EncryptResponse,
  GenerateDataKeyRequest,
  GenerateDataKeyResponse,
  KmsKeyParams,
  kmsAliasModel,
  kmsKeyModel,
  ScheduleDeletionRequest,
  type DecryptRequestT,
  type EncryptRequestT,
  type GenerateDataKeyRequestT,
  type ScheduleDeletionRequestT,
} from '../model/resources/kms.ts';
import { decodeToken, encodeToken, expectedVersion, pageSize, registerResource, representationSchema } from './plumbing.ts';

export interface KmsRouteContext {
  readonly keys: KeyService;
  /** Who is calling, for the audit trail (the guard has authenticated the request by then). */
  readonly principalOf?: (req: FastifyRequest) => Promise<string | undefined>;
}


const errorBody = Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()), detail: Type.Optional(Type.Unknown()), requestId: Type.String() });
const errors = { 400: errorBody, 404: errorBody, 409: errorBody, 412: errorBody };

/** Base64 from a client, strictly: Buffer.from would skip junk and decode the rest. */
function fromBase64(text: string, field: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new RegistryError('InvalidParameter', `${field} is not canonical base64`, { field });
  return bytes;
}

export function registerKmsRoutes(app: FastifyInstance, ctx: KmsRouteContext): void {
  const keyHandler = new KmsKeyHandler(ctx.keys);
  registerResource(app, kmsKeyModel, keyHandler);
  registerResource(app, kmsAliasModel, new KmsAliasHandler(ctx.keys));
  const key = representationSchema(kmsKeyModel);
  const caller = async (req: FastifyRequest): Promise<KmsCaller> => ({ principal: await ctx.principalOf?.(req), requestId: req.id });
  const keyIdOf = (req: FastifyRequest): string => (req.params as { keyId: string }).keyId;

  app.post(
    '/kms/keys/:keyId/rotate',
    {
      config: { auth: { action: 'kms:RotateKeyOnDemand', resource: 'kmsKey' } },
      schema: { tags: ['KmsKey'], summary: 'Rotate the key material now; older versions keep decrypting what they encrypted', params: KmsKeyParams, response: { 200: key, ...errors } },
    },
    async (req) => keyHandler.represent(await ctx.keys.rotateKeyOnDemand(keyIdOf(req), expectedVersion(req))),
  );

  app.post(
    '/kms/keys/:keyId/schedule-deletion',
    {
      config: { auth: { action: 'kms:ScheduleKeyDeletion', resource: 'kmsKey' } },
      schema: {
        tags: ['KmsKey'],
        summary: 'Schedule the destruction of the key (7 to 30 days ahead); everything encrypted under it then becomes unreadable',
        params: KmsKeyParams,
        body: Type.Optional(ScheduleDeletionRequest),
        response: { 200: key, ...errors },
      },
    },
    async (req) => {
      const body = (req.body ?? {}) as ScheduleDeletionRequestT;
      return keyHandler.represent(await ctx.keys.scheduleKeyDeletion(keyIdOf(req), body.pendingWindowInDays, expectedVersion(req)));
    },
  );

  app.post(
    '/kms/keys/:keyId/cancel-deletion',
    {
      config: { auth: { action: 'kms:CancelKeyDeletion', resource: 'kmsKey' } },
      schema: { tags: ['KmsKey'], summary: 'Cancel a scheduled deletion; the key comes back Disabled', params: KmsKeyParams, response: { 200: key, ...errors } },
    },
    async (req) => keyHandler.represent(await ctx.keys.cancelKeyDeletion(keyIdOf(req), expectedVersion(req))),
  );

  app.get(
    '/kms/keys/:keyId/audit',
    {
      config: { auth: { action: 'kms:ListAuditRecords', resource: 'kmsKey' } },
      schema: { tags: ['KmsKey'], summary: "The key's uses (encrypt, decrypt, data keys), newest first", params: KmsKeyParams, querystring: AuditQuery, response: { 200: AuditPage, ...errors } },
    },
    async (req) => {
      const keyId = keyIdOf(req);
      const q = req.query as { maxResults?: number; nextToken?: string };
      // Records outlive a destroyed key, so they stay readable by its id.
      const page = await ctx.keys.listAudit(keyId, { limit: pageSize(q.maxResults), after: q.nextToken === undefined ? undefined : decodeToken(q.nextToken) });
      return { items: page.records, ...(page.after !== undefined ? { nextToken: encodeToken(page.after) } : {}) };
    },
  );

  app.post(
    '/kms/encrypt',
    {
      config: { auth: { action: 'kms:Encrypt', resource: 'kmsKey' } },
      schema: { tags: ['KmsCrypto'], summary: 'Encrypt up to 4096 bytes under a key', body: EncryptRequest, response: { 200: EncryptResponse, ...errors } },
    },
    async (req) => {
      const body = req.body as EncryptRequestT;
      const r = await ctx.keys.encrypt(body.keyId, fromBase64(body.plaintext, 'plaintext'), body.encryptionContext, await caller(req));
      return { ciphertextBlob: r.ciphertextBlob.toString('base64'), keyId: r.keyArn };
    },
  );

  app.post(
    '/kms/decrypt',
    {
      config: { auth: { action: 'kms:Decrypt', resource: 'kmsKey' } },
      schema: { tags: ['KmsCrypto'], summary: 'Decrypt a ciphertext with the key named inside it', body: DecryptRequest, response: { 200: DecryptResponse, ...errors } },
    },
    async (req) => {
      const body = req.body as DecryptRequestT;
      const r = await ctx.keys.decrypt(fromBase64(body.ciphertextBlob, 'ciphertextBlob'), body.encryptionContext, {
        caller: await caller(req),
        ...(body.keyId !== undefined ? { expectedKey: body.keyId } : {}),
      });
      return { plaintext: r.plaintext.toString('base64'), keyId: r.keyArn };
    },
  );

  app.post(
    '/kms/generate-data-key',
    {
      config: { auth: { action: 'kms:GenerateDataKey', resource: 'kmsKey' } },
      schema: { tags: ['KmsCrypto'], summary: 'A fresh data key, in plaintext and encrypted under a key', body: GenerateDataKeyRequest, response: { 200: GenerateDataKeyResponse, ...errors } },
    },
    async (req) => {
      const body = req.body as GenerateDataKeyRequestT;
      if (body.keySpec !== undefined && body.numberOfBytes !== undefined) throw new RegistryError('InvalidParameter', 'give keySpec or numberOfBytes, not both', { field: 'numberOfBytes' });
      const numberOfBytes = body.numberOfBytes ?? (body.keySpec === 'AES_128' ? 16 : 32);
      const r = await ctx.keys.generateDataKey(body.keyId, body.encryptionContext, { numberOfBytes, caller: await caller(req) });
      return { plaintext: r.plaintext.toString('base64'), ciphertextBlob: r.ciphertextBlob.toString('base64'), keyId: r.keyArn };
    },
  );
}
