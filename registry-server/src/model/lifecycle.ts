// Schemas of the lifecycle policy's operations (preview, execute, history).
import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common.ts';

export const Expiry = Type.Object({
  imageDigest: Type.String(),
  imageTags: Type.Array(Type.String()),
  imagePushedAt: Timestamp,
  appliedRulePriority: Type.Integer({ description: 'The rule that expires the image.' }),
  reason: Type.String({ description: 'Why the rule selects it, in words.' }),
});

export const PreviewRequest = Type.Object(
  { lifecyclePolicyText: Type.Optional(Type.String({ minLength: 1, maxLength: 30720, description: 'A policy to try instead of the stored one.' })) },
  { additionalProperties: false },
);

export const PreviewResponse = Type.Object({
  results: Type.Array(Expiry),
  summary: Type.Object({ expiringImageTotalCount: Type.Integer() }),
});

export const ExecuteResponse = Type.Object({ executedAt: Timestamp, expired: Type.Array(Expiry) });

export const ExpirationsQuery = Type.Object(
  {
    maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    nextToken: Type.Optional(Type.String({ maxLength: 64, pattern: '^[0-9]+$' })),
  },
  { additionalProperties: false },
);

export const ExpirationsResponse = Type.Object({
  expirations: Type.Array(
    Type.Object({
      imageDigest: Type.String(),
      imageTags: Type.Array(Type.String()),
      appliedRulePriority: Type.Integer(),
      reason: Type.String(),
      expiredAt: Timestamp,
    }),
  ),
  nextToken: Type.Optional(Type.String()),
});

export type PreviewResponseT = Static<typeof PreviewResponse>;
export type ExecuteResponseT = Static<typeof ExecuteResponse>;
export type ExpirationsResponseT = Static<typeof ExpirationsResponse>;
