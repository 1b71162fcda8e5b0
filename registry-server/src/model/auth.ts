// Schemas of the identity operations that are not resources: signing in for a registry login
// token, and asking the policy simulator for a decision. Shared by the routes, OpenAPI, the
// client and the IaC data source.
import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common.ts';
import { withMeta } from './meta.ts';
import { PrincipalName } from './resources/identity.ts';

export const AuthorizationToken = Type.Object({
  authorizationToken: withMeta(Type.String({ description: 'base64 of "<userName>:<password>", as ECR returns it.' }), { sensitive: true }),
  userName: Type.String({ description: 'The user name to sign in with (BERTH).' }),
  password: withMeta(Type.String({ description: 'A signed login token acting as the caller; use it as the password of docker login.' }), { sensitive: true }),
  proxyEndpoint: Type.String({ description: 'The registry URL to sign in to.' }),
  expiresAt: Timestamp,
});

export const SimulationRequest = Type.Object(
  {
    principalName: Type.Optional(PrincipalName),
    action: Type.String({ minLength: 3, maxLength: 128, pattern: '^[a-z0-9-]+:[A-Za-z0-9]+$', description: 'An action, e.g. ecr:BatchGetImage.' }),
    resource: Type.String({ minLength: 1, maxLength: 2048, description: 'The resource ARN, e.g. arn:berth:ecr:local:000000000000:repository/team/app.' }),
    context: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9.-]+:[A-Za-z0-9_.-]+(?:/.+)?$', maxLength: 256 }), Type.Union([Type.String({ maxLength: 1024 }), Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 50 })]), {
        maxProperties: 50,
        description: 'Condition keys and values that override the defaults (aws:SourceIp, aws:CurrentTime, ...).',
      }),
    ),
  },
  { additionalProperties: false, description: 'Omit principalName to simulate an anonymous caller.' },
);

export const SimulationResult = Type.Object({
  decision: Type.Union([Type.Literal('allowed'), Type.Literal('explicitDeny'), Type.Literal('implicitDeny')]),
  statement: Type.Optional(
    Type.Object({
      source: Type.String({ description: 'The policy: identity:<principal>/<name>, repository:<name> or registry.' }),
      index: Type.Integer({ description: 'The statement position in the policy, from 0.' }),
      sid: Type.Optional(Type.String()),
      effect: Type.Union([Type.Literal('Allow'), Type.Literal('Deny')]),
    }),
  ),
  policies: Type.Array(Type.String(), { description: 'Every policy that was evaluated.' }),
  context: Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())])),
});

export type SimulationRequestT = Static<typeof SimulationRequest>;
export type AuthorizationTokenT = Static<typeof AuthorizationToken>;
