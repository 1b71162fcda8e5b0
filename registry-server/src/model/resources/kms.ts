// KMS keys and aliases (as AWS KMS has them), and the shapes of the cryptographic operations
// that are not resources (Encrypt, Decrypt, GenerateDataKey, the audit trail).
import { Type, type Static } from '@sinclair/typebox';
import { ResourceTags, Timestamp, Version } from '../common.ts';
import { fixed, withMeta } from '../meta.ts';
import type { ResourceModel } from '../resource.ts';

export const KmsKeyId = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'Key id: a UUID assigned when the key is created.',
});

/** Where a key may be named by id, key ARN, alias name or alias ARN. */
export const KmsKeyRef = Type.String({ minLength: 1, maxLength: 2048, description: 'Key id, key ARN, alias name (alias/<name>) or alias ARN.' });

export const KmsAliasName = Type.String({
  pattern: '^alias/[a-zA-Z0-9/_-]{1,250}$',
  description: 'alias/ and 1 to 250 of letters, digits and /_- (alias/aws/ and alias/berth/ are reserved). URL-encode it in paths (alias%2Fmy-key).',
});

export const EncryptionContextSchema = Type.Record(Type.String({ minLength: 1, maxLength: 2048 }), Type.String({ maxLength: 2048 }), {
  maxProperties: 64,
  description: 'Non-secret key/value pairs bound to the ciphertext: decryption needs exactly the same pairs. Only the keys are kept in the audit trail.',
});

const Base64 = (description: string, maxLength: number) => Type.String({ maxLength, pattern: '^[A-Za-z0-9+/]*={0,2}$', description });

export const KeyState = Type.Union([Type.Literal('Enabled'), Type.Literal('Disabled'), Type.Literal('PendingDeletion')], {
  description: 'Enabled keys encrypt and decrypt; Disabled and PendingDeletion keys refuse both.',
});

const DeletionWindow = Type.Integer({ minimum: 7, maximum: 30, description: 'Days between scheduling deletion and destruction (7 to 30).' });

const keyInputs = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 8192, description: 'Free text.' })),
    keyUsage: Type.Optional(withMeta(Type.Literal('ENCRYPT_DECRYPT', { description: 'Only ENCRYPT_DECRYPT (symmetric keys).' }), { forceNew: true, serverDefault: true })),
    keySpec: Type.Optional(withMeta(Type.Literal('SYMMETRIC_DEFAULT', { description: 'Only SYMMETRIC_DEFAULT: 256-bit AES-GCM.' }), { forceNew: true, serverDefault: true })),
    enabled: Type.Optional(withMeta(Type.Boolean({ description: 'false disables the key (it refuses every cryptographic use until enabled again). Default true.' }), { serverDefault: true })),
    enableKeyRotation: Type.Optional(withMeta(Type.Boolean({ description: 'Rotate the key material automatically every rotationPeriodInDays. Default false.' }), { serverDefault: true })),
    rotationPeriodInDays: Type.Optional(
      withMeta(Type.Integer({ minimum: 90, maximum: 2560, description: 'Days between automatic rotations (90 to 2560). Default 365.' }), { serverDefault: true }),
    ),
    deletionWindowInDays: Type.Optional(
      withMeta(Type.Integer({ minimum: 7, maximum: 30, description: 'Deleting the key schedules its destruction this many days ahead (7 to 30). Default 30.' }), { serverDefault: true }),
    ),
    tags: Type.Optional(ResourceTags),
  },
  { additionalProperties: false },
);

const keyOutputs = Type.Object({
  keyId: withMeta(KmsKeyId, fixed),
  arn: withMeta(Type.String({ description: 'arn:berth:kms:<region>:<registryId>:key/<keyId>' }), fixed),
  keyState: KeyState,
  keyManager: Type.Union([Type.Literal('CUSTOMER'), Type.Literal('BERTH')], { description: 'BERTH for the registry-managed default key (alias/berth/ecr).' }),
  createdAt: withMeta(Timestamp, fixed),
  deletionDate: Type.Optional(Type.String({ format: 'date-time', description: 'When a key pending deletion is destroyed.' })),
  nextRotationDate: Type.Optional(Type.String({ format: 'date-time', description: 'When automatic rotation next happens.' })),
  currentKeyVersion: Type.Integer({ minimum: 1, description: 'The material version new ciphertexts use; rotation adds one and keeps the old for decryption.' }),
  version: Version,
});

export const kmsKeyModel = {
  name: 'kms_key',
  title: 'KmsKey',
  description:
    'A symmetric KMS key for envelope encryption. Deleting it schedules its destruction after deletionWindowInDays; until then the deletion can be cancelled. ' +
    'Changing enabled needs kms:DisableKey whichever way it goes.',
  path: '/kms/keys/{keyId}',
  collectionPath: '/kms/keys',
  identity: [],
  assignedId: 'keyId',
  importId: '<keyId>',
  inputs: keyInputs,
  outputs: keyOutputs,
  operations: ['create', 'read', 'update', 'delete', 'list'],
  arnKind: 'kmsKey',
  actions: { create: 'kms:CreateKey', read: 'kms:DescribeKey', update: 'kms:UpdateKeyDescription', delete: 'kms:ScheduleKeyDeletion', list: 'kms:ListKeys' },
  // enabled needs kms:EnableKey or kms:DisableKey by its value; field actions cannot see values,
  // so the stricter-sounding DisableKey stands for both (documented in the description).
  fieldActions: {
    description: 'kms:UpdateKeyDescription',
    enabled: 'kms:DisableKey',
    enableKeyRotation: 'kms:EnableKeyRotation',
    rotationPeriodInDays: 'kms:EnableKeyRotation',
    deletionWindowInDays: 'kms:ScheduleKeyDeletion',
    tags: 'kms:TagResource',
  },
  errors: ['KMSKeyNotFound', 'KMSInvalidState'],
} as const satisfies ResourceModel<typeof keyInputs, typeof keyOutputs>;

const aliasInputs = Type.Object(
  {
    aliasName: withMeta(KmsAliasName, { forceNew: true }),
    targetKeyId: Type.String({ minLength: 1, maxLength: 2048, description: 'The key: its id or key ARN.' }),
  },
  { additionalProperties: false },
);

const aliasOutputs = Type.Object({
  arn: withMeta(Type.String({ description: 'arn:berth:kms:<region>:<registryId>:alias/<name>' }), fixed),
  // Not fixed: it follows targetKeyId.
  targetKeyArn: Type.String({ description: 'The ARN of the key the alias points at.' }),
  version: Version,
});

export const kmsAliasModel = {
  name: 'kms_alias',
  title: 'KmsAlias',
  description: 'A friendly name for a KMS key, usable wherever a key is named; it can be pointed at another key.',
  path: '/kms/aliases/{aliasName}',
  collectionPath: '/kms/aliases',
  identity: ['aliasName'],
  importId: '<aliasName>',
  inputs: aliasInputs,
  outputs: aliasOutputs,
  operations: ['create', 'read', 'update', 'delete', 'list'],
  arnKind: 'kmsKey',
  actions: { create: 'kms:CreateAlias', read: 'kms:ListAliases', update: 'kms:UpdateAlias', delete: 'kms:DeleteAlias', list: 'kms:ListAliases' },
  errors: ['AliasAlreadyExists', 'AliasNotFound', 'KMSKeyNotFound', 'KMSInvalidState'],
} as const satisfies ResourceModel<typeof aliasInputs, typeof aliasOutputs>;

// Operations that are not resources.

export const KmsKeyParams = Type.Object({ keyId: KmsKeyId });

export const ScheduleDeletionRequest = Type.Object(
  { pendingWindowInDays: Type.Optional(DeletionWindow) },
  { additionalProperties: false, description: "Without pendingWindowInDays the key's deletionWindowInDays applies." },
);

export const EncryptRequest = Type.Object(
  {
    keyId: KmsKeyRef,
    plaintext: Base64('Base64 of 1 to 4096 bytes.', 5464),
    encryptionContext: Type.Optional(EncryptionContextSchema),
  },
  { additionalProperties: false },
);

export const EncryptResponse = Type.Object({
  ciphertextBlob: Type.String({ description: 'Base64; names its key and key version, so decryption needs no key id.' }),
  keyId: Type.String({ description: 'ARN of the key used.' }),
});

export const DecryptRequest = Type.Object(
  {
    ciphertextBlob: Base64('Base64, as Encrypt or GenerateDataKey returned it.', 16384),
    encryptionContext: Type.Optional(EncryptionContextSchema),
    keyId: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'When given, a ciphertext made under any other key is refused.' })),
  },
  { additionalProperties: false },
);

export const DecryptResponse = Type.Object({
  plaintext: withMeta(Type.String({ description: 'Base64.' }), { sensitive: true }),
  keyId: Type.String({ description: 'ARN of the key used.' }),
});

export const GenerateDataKeyRequest = Type.Object(
  {
    keyId: KmsKeyRef,
    keySpec: Type.Optional(Type.Union([Type.Literal('AES_256'), Type.Literal('AES_128')], { description: 'AES_256 (32 bytes) or AES_128 (16); or give numberOfBytes. Default AES_256.' })),
    numberOfBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Length of the data key, instead of keySpec.' })),
    encryptionContext: Type.Optional(EncryptionContextSchema),
  },
  { additionalProperties: false },
);

export const GenerateDataKeyResponse = Type.Object({
  plaintext: withMeta(Type.String({ description: 'Base64 of the data key: use it, then forget it.' }), { sensitive: true }),
  ciphertextBlob: Type.String({ description: 'Base64 of the data key encrypted under the KMS key: store it with the data.' }),
  keyId: Type.String({ description: 'ARN of the key used.' }),
});

export const AuditRecordSchema = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Optional(Type.Integer({ minimum: 1 })),
  operation: Type.Union([Type.Literal('Encrypt'), Type.Literal('Decrypt'), Type.Literal('GenerateDataKey'), Type.Literal('ReEncrypt')]),
  at: Timestamp,
  principal: Type.Optional(Type.String({ description: 'Who used the key, when known.' })),
  requestId: Type.Optional(Type.String()),
  encryptionContextKeys: Type.Array(Type.String(), { description: 'The keys of the encryption context (its values are not kept).' }),
  success: Type.Boolean(),
  errorCode: Type.Optional(Type.String({ description: 'Why a refused use was refused.' })),
});

export const AuditQuery = Type.Object(
  {
    maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size.' })),
    nextToken: Type.Optional(Type.String({ maxLength: 1024, description: 'Token from the previous page.' })),
  },
  { additionalProperties: false },
);

export const AuditPage = Type.Object({ items: Type.Array(AuditRecordSchema, { description: 'Newest first.' }), nextToken: Type.Optional(Type.String()) });

export type KmsKeyInput = Static<typeof keyInputs>;
export type KmsAliasInput = Static<typeof aliasInputs>;
export type EncryptRequestT = Static<typeof EncryptRequest>;
export type DecryptRequestT = Static<typeof DecryptRequest>;
export type GenerateDataKeyRequestT = Static<typeof GenerateDataKeyRequest>;
export type ScheduleDeletionRequestT = Static<typeof ScheduleDeletionRequest>;
