// The Terraform provider's behaviour, driven by Berth's resource models: one projection per
// model gives the schema and the value mapping; plan and apply follow the model's facts
// (identity, forceNew, serverDefault, documents compared by meaning). Errors become diagnostics
// with the attribute at fault.
import { BerthApiError, BerthClient } from '@berth/registry-server/client';
import { canonicalDocumentText } from '@berth/registry-server/documents';
import { fieldMeta, resourceModels, type FieldMeta, type ResourceModel } from '@berth/registry-server/models';
import { Value } from '@sinclair/typebox/value';
import { Agent, fetch as undiciFetch } from 'undici';
import { containsWriteOnly, isFixedOutput, isPendingDeletion, keepWriteOnly } from '../../model-facts.ts';
import { dataSources, type DataSource } from '../data-sources/index.ts';
import type * as P from '../plugin/types.ts';
import { addressOf, fromModelValue, parseImportId, resourceFromModel, schemaFromTypeBox, toModelValue, toTerraformName, type Field, type ResourceProjection, type Shape } from '../schema/from-model.ts';
import { isObjectValue, isUnknown, isWhollyKnown, Unknown, type CtyObjectValue, type CtyValue } from '../values/index.ts';
import { providerConfig } from './config.ts';
import { decodeValue, encodeValue, sameValue } from './values.ts';

const configProjection = schemaFromTypeBox(providerConfig, { description: 'Berth, a self-hosted OCI registry managed as code.' });

function error(summary: string, detail?: string, attribute?: string): P.Diagnostic {
  return { severity: 'ERROR', summary, ...(detail ? { detail } : {}), ...(attribute ? { attribute: { steps: [{ attribute_name: attribute }] } } : {}) };
}

/** The registry refused the provider's credentials (or had none): say where they come from. */
function credentialsDiagnostic(err: BerthApiError): P.Diagnostic {
  return error(
    `the registry refused the provider's credentials (${err.code})`,
    `${err.message}. The provider signs in with access_key_id and secret_access_key from the provider block, or BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY: check that the key exists, is Active and that the secret is the one returned when it was created.${err.requestId ? ` (request ${err.requestId})` : ''}`,
  );
}

/** A management API error as a diagnostic on the attribute it names. */
function apiDiagnostic(err: unknown, p: ResourceProjection): P.Diagnostic {
  if (err instanceof BerthApiError && err.status === 401) return credentialsDiagnostic(err);
  if (err instanceof BerthApiError) {
    const top = err.field?.split('.')[0];
    const attribute = top && p.byModelName.get(top) ? p.byModelName.get(top)?.name : undefined;
    return error(`${err.code}: ${err.message}`, err.requestId ? `request ${err.requestId}` : undefined, attribute);
  }
  return error((err as Error).message ?? String(err));
}

type DocumentKind = NonNullable<FieldMeta['document']>;


function canonicalDocument(kind: DocumentKind, text: string): string | undefined {
  try {
    return canonicalDocumentText(kind, text, 'x');
  } catch {
    return undefined;
  }
}

function documentKind(f: Field): DocumentKind | undefined {
  return f.schema ? fieldMeta(f.schema).document : undefined;
}

/**
 * Outputs the server returns once (an access key's secret: by create only) and never on read.
 * They are sensitive and optional in the model's outputs; Terraform keeps the value it got.
 */
function isRetained(p: ResourceProjection, f: Field): boolean {
  return f.role === 'output' && f.sensitive && !(p.model.outputs.required ?? []).includes(f.modelName);
}

/** Keeps retained outputs (and the assigned id) the answer left out from `reference`. */
function keepRetained(p: ResourceProjection, fresh: Record<string, CtyValue>, reference: CtyObjectValue | null): Record<string, CtyValue> {
  if (!reference) return fresh;
  for (const f of p.fields) {
    if (!isRetained(p, f) && f !== p.assigned) continue;
    const before = reference[f.name] ?? null;
    if ((fresh[f.name] ?? null) === null && before !== null && !isUnknown(before)) fresh[f.name] = before;
  }
  return fresh;
}

/**
 * Keeps the user's own text for document fields whose meaning the server has not changed, as
 * plugin-framework semantic equality does: state then matches config, so plans stay empty.
 */
function keepDocuments(p: ResourceProjection, fresh: Record<string, CtyValue>, prior: CtyObjectValue | null): Record<string, CtyValue> {
  if (!prior) return fresh;
  for (const f of p.fields) {
    const kind = documentKind(f);
    const before = prior[f.name];
    const now = fresh[f.name];
    if (kind && typeof before === 'string' && typeof now === 'string' && canonicalDocument(kind, before) === canonicalDocument(kind, now)) fresh[f.name] = before;
  }
  return fresh;
}

/**
 * An optional input left out of the config is null in the plan; the server may report it as an
 * empty map or list. Those mean the same, and Terraform requires the applied value to match the
 * plan, so they are reported as null.
 */
function keepNullEmpties(p: ResourceProjection, fresh: Record<string, CtyValue>, reference: CtyObjectValue | null): Record<string, CtyValue> {
  if (!reference) return fresh;
  for (const f of p.fields) {
    if (f.role !== 'input' || f.computed || (reference[f.name] ?? null) !== null) continue;
    const v = fresh[f.name];
    const empty = Array.isArray(v) ? v.length === 0 : v !== null && typeof v === 'object' && !isUnknown(v) && Object.keys(v).length === 0;
    if (empty) fresh[f.name] = null;
  }
  return fresh;
}

/**
 * Write-only inputs (a destination's password) that the server's answer leaves out, as it
 * always does, keep their value from `reference`: the prior state on a read, the plan after an
 * apply. The state then matches the config and the next plan is empty; an import has no
 * reference, so the first plan after it sets the value again.
 */
function keepWriteOnlyInputs(p: ResourceProjection, found: Record<string, unknown>, reference: CtyObjectValue | null): Record<string, unknown> {
  if (!reference || !containsWriteOnly(p.model.inputs)) return found;
  const before = toModelValue(p.fields, reference, { roles: ['identity', 'input'], unknown: 'omit' });
  return keepWriteOnly(p.model.inputs, found, before) as Record<string, unknown>;
}

/**
 * Nested inputs the server fills in (a replication rule's name, its filters) that the config
 * leaves out and for which Terraform proposed no prior value (a new list element) are unknown
 * until apply, as top-level ones are: a null in the plan would not match what the server
 * answers. Lists are matched by position, as Terraform's proposed state does.
 */
function unknownNestedDefaults(shape: Shape, planned: CtyValue, config: CtyValue | undefined): CtyValue {
  if (planned === null || isUnknown(planned)) return planned;
  if (shape.kind === 'object' && isObjectValue(planned)) {
    const cfg = isObjectValue(config) ? config : null;
    const out: Record<string, CtyValue> = { ...planned };
    for (const f of shape.fields) {
      const c = cfg?.[f.name] ?? null;
      const v = out[f.name] ?? null;
      out[f.name] = f.serverDefault && c === null && v === null ? Unknown : unknownNestedDefaults(f.shape, v, c);
    }
    return out;
  }
  if (shape.kind === 'list' && Array.isArray(planned)) return planned.map((e, i) => unknownNestedDefaults(shape.element, e, Array.isArray(config) ? config[i] : null));
  if (shape.kind === 'map' && isObjectValue(planned)) {
    const cfg = isObjectValue(config) ? config : null;
    return Object.fromEntries(Object.entries(planned).map(([k, e]) => [k, unknownNestedDefaults(shape.element, e, cfg?.[k] ?? null)]));
  }
  // Set elements are identified by their whole value; an unknown inside one would make a new element.
  return planned;
}

const isSingleton = (m: ResourceModel): boolean => m.collectionPath === undefined;

/** fetch that trusts `ca` (PEM) or, when `insecure`, any certificate. */
function tlsFetch(ca: string | undefined, insecure: boolean): typeof fetch {
  const agent = new Agent({ connect: { ...(ca !== undefined ? { ca } : {}), rejectUnauthorized: !insecure } });
  return ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: agent } as never)) as unknown as typeof fetch;
}

export class BerthProvider implements P.ProviderHandlers {
  private readonly projections = new Map<string, ResourceProjection>();
  private client: BerthClient | undefined;

  constructor() {
    for (const model of resourceModels as readonly ResourceModel[]) {
      const p = resourceFromModel(model);
      this.projections.set(p.typeName, p);
    }
  }

  private projection(typeName: string): ResourceProjection {
    const p = this.projections.get(typeName);
    if (!p) throw new Error(`unknown resource type ${typeName}`);
    return p;
  }

  private api(): BerthClient {
    if (this.client) return this.client;
    const endpoint = process.env.BERTH_ENDPOINT;
    if (!endpoint) throw new Error('the provider has no endpoint: set endpoint in the provider block or BERTH_ENDPOINT');
    const accessKeyId = process.env.BERTH_ACCESS_KEY_ID;
    const secretAccessKey = process.env.BERTH_SECRET_ACCESS_KEY;
    this.client = new BerthClient({ endpoint, ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}) });
    return this.client;
  }

  async getMetadata(): Promise<P.GetMetadataResponse> {
    return { server_capabilities: { plan_destroy: true }, resources: [...this.projections.keys()].map((type_name) => ({ type_name })), data_sources: [...dataSources.keys()].map((type_name) => ({ type_name })) };
  }

  async getProviderSchema(): Promise<P.GetProviderSchemaResponse> {
    return {
      provider: configProjection.schema as P.Schema,
      resource_schemas: Object.fromEntries([...this.projections].map(([name, p]) => [name, p.schema as P.Schema])),
      data_source_schemas: Object.fromEntries([...dataSources].map(([name, d]) => [name, d.projection.schema as P.Schema])),
      server_capabilities: { plan_destroy: true },
    };
  }

  async validateProviderConfig(req: P.ValidateProviderConfigRequest): Promise<P.ValidateProviderConfigResponse> {
    const config = decodeValue(req.config, configProjection.type);
    const endpoint = config?.endpoint;
    if (typeof endpoint === 'string' && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
      return { diagnostics: [error('endpoint must be an http or https URL', `got ${JSON.stringify(endpoint)}`, 'endpoint')] };
    }
    return {};
  }

  async configureProvider(req: P.ConfigureProviderRequest): Promise<P.ConfigureProviderResponse> {
    const config = decodeValue(req.config, configProjection.type) ?? {};
    const str = (v: CtyValue | undefined): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    const endpoint = str(config.endpoint) ?? process.env.BERTH_ENDPOINT;
    if (!endpoint) return { diagnostics: [error('no Berth endpoint', 'set endpoint in the provider block, or BERTH_ENDPOINT', 'endpoint')] };
    const accessKeyId = str(config.access_key_id) ?? str(process.env.BERTH_ACCESS_KEY_ID);
    const secretAccessKey = str(config.secret_access_key) ?? str(process.env.BERTH_SECRET_ACCESS_KEY);
    // Half a key is a mistake worth stopping for; no key at all is allowed (anonymous access
    // to what the registry policy grants anyone).
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      const missing = accessKeyId === undefined ? 'access_key_id' : 'secret_access_key';
      return {
        diagnostics: [
          error(
            `incomplete Berth credentials: ${missing} is not set`,
            'set both access_key_id and secret_access_key in the provider block, or BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY',
            missing,
          ),
        ],
      };
    }
    const ca = str(config.ca_certificate) ?? process.env.BERTH_CA_CERTIFICATE;
    const insecure = config.insecure === true || process.env.BERTH_INSECURE === 'true';
    this.client = new BerthClient({
      endpoint,
      ...(accessKeyId !== undefined && secretAccessKey !== undefined ? { credentials: { accessKeyId, secretAccessKey } } : {}),
      ...(ca !== undefined || insecure ? { fetch: tlsFetch(ca, insecure) } : {}),
    });
    return {};
  }

  async validateResourceConfig(req: P.ValidateResourceConfigRequest): Promise<P.ValidateResourceConfigResponse> {
    const p = this.projection(req.type_name);
    const config = decodeValue(req.config, p.type);
    if (!config) return {};
    const diagnostics: P.Diagnostic[] = [];
    const values = toModelValue(p.fields, config, { roles: ['identity', 'input'], unknown: 'omit' });
    for (const f of p.fields) {
      if (f.role !== 'identity' && f.role !== 'input') continue;
      // Values still unknown (for_each keys, other resources' outputs) are checked at plan time.
      if (!isWhollyKnown(config[f.name] ?? null)) continue;
      const value = values[f.modelName];
      if (value === undefined || !f.schema) continue;
      const first = [...Value.Errors(f.schema, value)][0];
      if (first) {
        diagnostics.push(error(`invalid ${f.name}`, `${f.name}${first.path.replaceAll('/', '.')}: ${first.message}`, f.name));
        continue;
      }
      const kind = documentKind(f);
      if (kind && typeof value === 'string') {
        try {
          canonicalDocumentText(kind, value, f.name);
        } catch (err) {
          diagnostics.push(error(`invalid ${f.name}`, (err as Error).message, f.name));
        }
      }
    }
    return { diagnostics };
  }

  private dataSource(typeName: string): DataSource {
    const d = dataSources.get(typeName);
    if (!d) throw new Error(`unknown data source type ${typeName}`);
    return d;
  }

  async validateDataResourceConfig(req: P.ValidateDataResourceConfigRequest): Promise<P.ValidateDataResourceConfigResponse> {
    const d = this.dataSource(req.type_name);
    const config = decodeValue(req.config, d.projection.type);
    return config ? { diagnostics: d.validate(config) } : {};
  }

  async readDataSource(req: P.ReadDataSourceRequest): Promise<P.ReadDataSourceResponse> {
    const d = this.dataSource(req.type_name);
    const config = decodeValue(req.config, d.projection.type);
    if (!config) return { diagnostics: [error(`${req.type_name}: no configuration to read with`)] };
    const result = await d.read(config, () => this.api());
    return {
      ...(result.state ? { state: encodeValue(result.state, d.projection.type) } : {}),
      ...(result.diagnostics && result.diagnostics.length > 0 ? { diagnostics: result.diagnostics } : {}),
    };
  }

  async upgradeResourceState(req: P.UpgradeResourceStateRequest): Promise<P.UpgradeResourceStateResponse> {
    const p = this.projection(req.type_name);
    const json = req.raw_state?.json;
    if (!json || json.length === 0) return { diagnostics: [error('state has no JSON form to upgrade')] };
    // Version 0 is the only schema version; attributes a newer build dropped are ignored.
    const { decodeJson } = await import('../values/index.ts');
    return { upgraded_state: encodeValue(decodeJson(json, p.type, { ignoreUndefinedAttributes: true }), p.type) };
  }

  async readResource(req: P.ReadResourceRequest): Promise<P.ReadResourceResponse> {
    const p = this.projection(req.type_name);
    const state = decodeValue(req.current_state, p.type);
    if (!state) return { new_state: encodeValue(null, p.type) };
    try {
      const found = (await this.api().resource(p.model).read(addressOf(p, state) as never)) as Record<string, unknown>;
      // Its deletion is scheduled (destroyed, or deleted outside Terraform): gone, as a 404 is.
      if (isPendingDeletion(p.model, found)) return { new_state: encodeValue(null, p.type) };
      const fresh = fromModelValue(p, keepWriteOnlyInputs(p, found, state));
      return { new_state: encodeValue(keepRetained(p, keepNullEmpties(p, keepDocuments(p, fresh, state), state), state), p.type) };
    } catch (err) {
      // Deleted outside Terraform: a null state makes Terraform plan to create it again.
      if (err instanceof BerthApiError && err.status === 404) return { new_state: encodeValue(null, p.type) };
      return { diagnostics: [apiDiagnostic(err, p)] };
    }
  }

  async planResourceChange(req: P.PlanResourceChangeRequest): Promise<P.PlanResourceChangeResponse> {
    const p = this.projection(req.type_name);
    const prior = decodeValue(req.prior_state, p.type);
    const proposed = decodeValue(req.proposed_new_state, p.type);
    const config = decodeValue(req.config, p.type);
    if (!proposed) return { planned_state: encodeValue(null, p.type) };
    const planned: Record<string, CtyValue> = { ...proposed };
    const inputs = p.fields.filter((f) => f.role === 'identity' || f.role === 'input');
    // Server-chosen inputs left out of the config keep their current value (or wait for apply).
    for (const f of inputs) {
      if (f.serverDefault && (config?.[f.name] ?? null) === null) planned[f.name] = prior ? (prior[f.name] ?? null) : Unknown;
      else planned[f.name] = unknownNestedDefaults(f.shape, planned[f.name] ?? null, config?.[f.name] ?? null);
    }
    // A document whose meaning equals the prior one keeps the prior text: Terraform accepts the
    // prior value in place of the config's as "functionally equivalent", so no diff shows.
    if (prior) {
      for (const f of inputs) {
        const kind = documentKind(f);
        const before = prior[f.name];
        const next = planned[f.name];
        if (kind && typeof before === 'string' && typeof next === 'string' && before !== next && canonicalDocument(kind, before) === canonicalDocument(kind, next)) {
          planned[f.name] = before;
        }
      }
    }
    const changed = !prior || inputs.some((f) => !sameValue(prior[f.name], planned[f.name]));
    for (const f of p.fields) {
      if (f.role !== 'output' && f.role !== 'id') continue;
      // The id, the assigned id, values returned once and outputs fixed at creation (an ARN)
      // stay what they are on an update.
      const kept = f.role === 'id' || f === p.assigned || isRetained(p, f) || isFixedOutput(p.model, f.modelName);
      if (!prior) planned[f.name] = Unknown;
      else if (!changed || kept) planned[f.name] = prior[f.name] ?? null;
      else planned[f.name] = Unknown;
    }
    const requiresReplace: P.AttributePath[] = prior
      ? inputs.filter((f) => (f.forceNew || f.role === 'identity') && !sameValue(prior[f.name], planned[f.name])).map((f) => ({ steps: [{ attribute_name: f.name }] }))
      : [];
    return { planned_state: encodeValue(planned, p.type), requires_replace: requiresReplace };
  }

  async applyResourceChange(req: P.ApplyResourceChangeRequest): Promise<P.ApplyResourceChangeResponse> {
    const p = this.projection(req.type_name);
    const prior = decodeValue(req.prior_state, p.type);
    const planned = decodeValue(req.planned_state, p.type);
    const api = this.api().resource(p.model);
    try {
      if (!planned) {
        if (prior) {
          await api.delete(addressOf(p, prior) as never).catch((err: unknown) => {
            if (!(err instanceof BerthApiError && err.status === 404)) throw err;
          });
        }
        return { new_state: encodeValue(null, p.type) };
      }
      const values = toModelValue(p.fields, planned, { roles: ['identity', 'input'], unknown: 'omit' });
      const identity = prior ? addressOf(p, prior) : Object.fromEntries(p.model.identity.map((k) => [k, values[k]]));
      const body = Object.fromEntries(Object.entries(values).filter(([k]) => !p.model.identity.includes(k)));
      let result: Record<string, unknown>;
      if (isSingleton(p.model) && !prior) {
        // A singleton another configuration (or a person) already set is not silently replaced.
        const existing = await api.read(identity as never).catch((err: unknown) => {
          if (err instanceof BerthApiError && err.status === 404) return undefined;
          throw err;
        });
        if (existing) {
          const id = p.idFields.map((k) => String((existing as Record<string, unknown>)[k] ?? '')).join(',');
          return {
            diagnostics: [
              error(`${req.type_name} already exists`, `It was set outside this configuration. Import it (terraform import ${req.type_name}.<name> ${id}) or remove it first.`),
            ],
          };
        }
      }
      if (isSingleton(p.model)) result = (await api.update(identity as never, body as never)) as Record<string, unknown>;
      else if (!prior) result = (await api.create(values as never)) as Record<string, unknown>;
      else result = (await api.update(identity as never, body as never)) as Record<string, unknown>;
      const fresh = fromModelValue(p, keepWriteOnlyInputs(p, result, planned));
      return { new_state: encodeValue(keepRetained(p, keepNullEmpties(p, keepDocuments(p, fresh, planned), planned), prior), p.type) };
    } catch (err) {
      return { diagnostics: [apiDiagnostic(err, p)] };
    }
  }

  async importResourceState(req: P.ImportResourceStateRequest): Promise<P.ImportResourceStateResponse> {
    const p = this.projection(req.type_name);
    try {
      const identity = parseImportId(p.model, req.id);
      const found = (await this.api().resource(p.model).read(identity as never)) as Record<string, unknown>;
      if (isPendingDeletion(p.model, found)) {
        return { diagnostics: [error(`cannot import ${req.type_name} ${JSON.stringify(req.id)}: its deletion is scheduled`, 'Cancel the deletion first, or create a new one.')] };
      }
      return { imported_resources: [{ type_name: req.type_name, state: encodeValue(fromModelValue(p, found), p.type) }] };
    } catch (err) {
      if (err instanceof BerthApiError && err.status === 404) {
        return { diagnostics: [error(`cannot import ${req.type_name} ${JSON.stringify(req.id)}: it does not exist`, err.message)] };
      }
      return { diagnostics: [err instanceof BerthApiError ? apiDiagnostic(err, p) : error(`cannot import ${JSON.stringify(req.id)}`, (err as Error).message)] };
    }
  }

  async stopProvider(): Promise<P.StopProviderResponse> {
    return {};
  }
}

export { toTerraformName };
