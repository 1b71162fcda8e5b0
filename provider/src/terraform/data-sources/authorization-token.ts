// berth_authorization_token: a registry login token acting as the provider's principal, as ECR's
// aws_ecr_authorization_token gives one (docker login -u <user_name> -p <password>). Its
// attributes are the registry's AuthorizationToken schema; the secret ones are sensitive.
import { Type } from '@sinclair/typebox';
import { BerthApiError } from '@berth/registry-server/client';
import { AuthorizationToken } from '@berth/registry-server/models';
import { fromModelValue } from '../schema/from-model.ts';
import { dataSourceFromTypeBox, errorAt, type DataSource } from './common.ts';

export const authorizationTokenProjection = dataSourceFromTypeBox(
  'authorization_token',
  Type.Object({}),
  AuthorizationToken,
  'A 12-hour registry login token acting as the provider\'s principal: sign in with user_name and password (docker login), or send authorization_token as Basic credentials.',
);

export const authorizationTokenDataSource: DataSource = {
  typeName: authorizationTokenProjection.typeName,
  projection: authorizationTokenProjection,
  validate: () => [],
  async read(_config, api) {
    try {
      const token = await api().authorizationToken();
      return { state: fromModelValue(authorizationTokenProjection, token) };
    } catch (err) {
      if (err instanceof BerthApiError) {
        const summary =
          err.status === 401 ? `the registry refused the provider's credentials (${err.code})` : `cannot get an authorization token: ${err.code}`;
        return { diagnostics: [errorAt(summary, `${err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`)] };
      }
      return { diagnostics: [errorAt((err as Error).message ?? String(err), undefined)] };
    }
  },
};
