// Data sources projected from a resource model (berth_repository): the identity is the input,
// everything else is computed; the read is the resource client's read.
import { Value } from '@sinclair/typebox/value';
import { BerthApiError } from '@berth/registry-server/client';
import type { ResourceModel } from '@berth/registry-server/models';
import { dataSourceFromModel, fromModelValue, toModelValue } from '../schema/from-model.ts';
import type * as P from '../plugin/types.ts';
import { errorAt, hasUnknown, pendingState, type DataSource } from './common.ts';

export function modelDataSource(model: ResourceModel): DataSource {
  const p = dataSourceFromModel(model);
  const identity = p.fields.filter((f) => f.role === 'identity');
  const apiDiagnostic = (err: unknown): P.Diagnostic => {
    if (err instanceof BerthApiError) {
      const top = err.field?.split('.')[0];
      const f = top ? p.byModelName.get(top) : identity.length === 1 ? identity[0] : undefined;
      const summary = err.status === 404 ? `${p.typeName}: not found` : `${err.code}: ${err.message}`;
      return errorAt(summary, err.status === 404 ? err.message : err.requestId ? `request ${err.requestId}` : undefined, f && f.role === 'identity' ? [f.name] : []);
    }
    return errorAt((err as Error).message ?? String(err), undefined);
  };
  return {
    typeName: p.typeName,
    projection: p,
    validate(config) {
      const out: P.Diagnostic[] = [];
      const values = toModelValue(identity, config, { roles: ['identity'], unknown: 'omit' });
      for (const f of identity) {
        const v = values[f.modelName];
        if (v === undefined || !f.schema) continue;
        const first = [...Value.Errors(f.schema, v)][0];
        if (first) out.push(errorAt(`invalid ${f.name}`, `${f.name}${first.path.replaceAll('/', '.')}: ${first.message}`, [f.name]));
      }
      return out;
    },
    async read(config, api) {
      if (identity.some((f) => hasUnknown(config[f.name]))) return { state: pendingState(p, config) };
      const bad = this.validate(config);
      if (bad.length > 0) return { diagnostics: bad };
      try {
        const id = toModelValue(identity, config, { roles: ['identity'] });
        const found = (await api().resource(model).read(id as never)) as Record<string, unknown>;
        return { state: fromModelValue(p, found) };
      } catch (err) {
        return { diagnostics: [apiDiagnostic(err)] };
      }
    },
  };
}
