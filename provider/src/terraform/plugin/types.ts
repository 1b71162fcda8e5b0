// TypeScript shapes of the tfplugin6 messages (../proto/tfplugin6.proto) as @grpc/proto-loader
// hands them over with the options in ../proto/load.ts, and the interface provider code
// implements (ProviderHandlers).
//
// Two conventions:
// - Requests (what Terraform sends) are typed as decoded: every scalar is present (empty string,
//   0, false, empty Buffer when unset), unset message fields are null, enums are their names,
//   int64 are numbers. `Received*` types are the decoded forms of messages that also appear
//   in responses.
// - Responses (what handlers return) are partial: anything left out is sent as the protobuf
//   default. Bytes may be any Uint8Array (Buffer included).
import type { Logger } from './log.ts';

// ---------------------------------------------------------------------------------------
// Shared values

export type StringKind = 'PLAIN' | 'MARKDOWN';
export type DiagnosticSeverity = 'INVALID' | 'ERROR' | 'WARNING';
export type NestedBlockNestingMode = 'INVALID' | 'SINGLE' | 'LIST' | 'SET' | 'MAP' | 'GROUP';
export type ObjectNestingMode = 'INVALID' | 'SINGLE' | 'LIST' | 'SET' | 'MAP';
export type DeferredReason = 'UNKNOWN' | 'RESOURCE_CONFIG_UNKNOWN' | 'PROVIDER_CONFIG_UNKNOWN' | 'ABSENT_PREREQ';

/** A value to send: cty msgpack (preferred) or cty JSON; set exactly one. */
export interface DynamicValue {
  msgpack?: Uint8Array;
  json?: Uint8Array;
}

/** A value received from Terraform: it fills `msgpack` (and leaves `json` empty) except where noted. */
export interface ReceivedDynamicValue {
  msgpack: Buffer;
  json: Buffer;
}

/** One step of a path: set exactly one of the three. */
export type AttributePathStep =
  | { attribute_name: string }
  | { element_key_string: string }
  | { element_key_int: number };

export interface AttributePath {
  steps?: AttributePathStep[];
}

export interface Diagnostic {
  severity: DiagnosticSeverity;
  summary: string;
  detail?: string;
  attribute?: AttributePath;
}

export interface FunctionError {
  text: string;
  function_argument?: number;
}

export interface ReceivedRawState {
  json: Buffer;
  flatmap: Record<string, string>;
}

export interface SchemaAttribute {
  name: string;
  /** JSON of the cty type (e.g. `"string"`, `["list","string"]`); leave empty when `nested_type` is set. */
  type?: Uint8Array;
  nested_type?: SchemaObject;
  description?: string;
  description_kind?: StringKind;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  deprecation_message?: string;
  write_only?: boolean;
}

export interface SchemaObject {
  attributes?: SchemaAttribute[];
  nesting: ObjectNestingMode;
}

export interface SchemaBlock {
  version?: number;
  attributes?: SchemaAttribute[];
  block_types?: SchemaNestedBlock[];
  description?: string;
  description_kind?: StringKind;
  deprecated?: boolean;
  deprecation_message?: string;
}

export interface SchemaNestedBlock {
  type_name: string;
  block: SchemaBlock;
  nesting: NestedBlockNestingMode;
  min_items?: number;
  max_items?: number;
}

export interface Schema {
  version?: number;
  /** Always set it: Terraform dereferences the block of every schema it receives. */
  block: SchemaBlock;
}

export interface ResourceIdentitySchema {
  version?: number;
  identity_attributes?: {
    name: string;
    type: Uint8Array;
    required_for_import?: boolean;
    optional_for_import?: boolean;
    description?: string;
  }[];
}

export interface ResourceIdentityData {
  identity_data?: DynamicValue;
}

export interface ReceivedResourceIdentityData {
  identity_data: ReceivedDynamicValue | null;
}

export interface ActionSchema {
  schema?: Schema;
}

export interface FunctionParameter {
  name?: string;
  type: Uint8Array;
  allow_null_value?: boolean;
  allow_unknown_values?: boolean;
  description?: string;
  description_kind?: StringKind;
}

export interface FunctionDefinition {
  parameters?: FunctionParameter[];
  variadic_parameter?: FunctionParameter;
  return: { type: Uint8Array };
  summary?: string;
  description?: string;
  description_kind?: StringKind;
  deprecation_message?: string;
}

export interface ServerCapabilities {
  plan_destroy?: boolean;
  get_provider_schema_optional?: boolean;
  move_resource_state?: boolean;
  generate_resource_config?: boolean;
}

export interface ClientCapabilities {
  deferral_allowed: boolean;
  write_only_attributes_allowed: boolean;
}

export interface Deferred {
  reason: DeferredReason;
}

/** google.protobuf.Timestamp; `timestampFromDate` builds one. */
export interface Timestamp {
  seconds: number;
  nanos?: number;
}

export interface ReceivedTimestamp {
  seconds: number;
  nanos: number;
}

// ---------------------------------------------------------------------------------------
// Metadata and schemas

export type GetMetadataRequest = Record<string, never>;
export interface GetMetadataResponse {
  server_capabilities?: ServerCapabilities;
  diagnostics?: Diagnostic[];
  data_sources?: { type_name: string }[];
  resources?: { type_name: string }[];
  functions?: { name: string }[];
  ephemeral_resources?: { type_name: string }[];
  list_resources?: { type_name: string }[];
  state_stores?: { type_name: string }[];
  actions?: { type_name: string }[];
}

export type GetProviderSchemaRequest = Record<string, never>;
export interface GetProviderSchemaResponse {
  /** Required by Terraform ("missing provider schema" otherwise), even when empty. */
  provider?: Schema;
  resource_schemas?: Record<string, Schema>;
  data_source_schemas?: Record<string, Schema>;
  diagnostics?: Diagnostic[];
  provider_meta?: Schema;
  server_capabilities?: ServerCapabilities;
  functions?: Record<string, FunctionDefinition>;
  ephemeral_resource_schemas?: Record<string, Schema>;
  list_resource_schemas?: Record<string, Schema>;
  state_store_schemas?: Record<string, Schema>;
  action_schemas?: Record<string, ActionSchema>;
}

export type GetResourceIdentitySchemasRequest = Record<string, never>;
export interface GetResourceIdentitySchemasResponse {
  identity_schemas?: Record<string, ResourceIdentitySchema>;
  diagnostics?: Diagnostic[];
}

// ---------------------------------------------------------------------------------------
// Validation, configuration, upgrades

export interface ValidateProviderConfigRequest {
  config: ReceivedDynamicValue | null;
}
export interface DiagnosticsResponse {
  diagnostics?: Diagnostic[];
}
export type ValidateProviderConfigResponse = DiagnosticsResponse;

export interface ValidateResourceConfigRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
  client_capabilities: ClientCapabilities | null;
}
export type ValidateResourceConfigResponse = DiagnosticsResponse;

export interface ValidateDataResourceConfigRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
}
export type ValidateDataResourceConfigResponse = DiagnosticsResponse;

export interface UpgradeResourceStateRequest {
  type_name: string;
  /** Schema version recorded with the stored state. */
  version: number;
  raw_state: ReceivedRawState | null;
}
export interface UpgradeResourceStateResponse {
  upgraded_state?: DynamicValue;
  diagnostics?: Diagnostic[];
}

export interface UpgradeResourceIdentityRequest {
  type_name: string;
  version: number;
  raw_identity: ReceivedRawState | null;
}
export interface UpgradeResourceIdentityResponse {
  upgraded_identity?: ResourceIdentityData;
  diagnostics?: Diagnostic[];
}

export interface ConfigureProviderRequest {
  terraform_version: string;
  config: ReceivedDynamicValue | null;
  client_capabilities: ClientCapabilities | null;
}
export type ConfigureProviderResponse = DiagnosticsResponse;

// ---------------------------------------------------------------------------------------
// Managed resources and data sources

export interface ReadResourceRequest {
  type_name: string;
  current_state: ReceivedDynamicValue | null;
  private: Buffer;
  provider_meta: ReceivedDynamicValue | null;
  client_capabilities: ClientCapabilities | null;
  current_identity: ReceivedResourceIdentityData | null;
}
export interface ReadResourceResponse {
  new_state?: DynamicValue;
  diagnostics?: Diagnostic[];
  private?: Uint8Array;
  deferred?: Deferred;
  new_identity?: ResourceIdentityData;
}

export interface PlanResourceChangeRequest {
  type_name: string;
  prior_state: ReceivedDynamicValue | null;
  proposed_new_state: ReceivedDynamicValue | null;
  config: ReceivedDynamicValue | null;
  prior_private: Buffer;
  provider_meta: ReceivedDynamicValue | null;
  client_capabilities: ClientCapabilities | null;
  prior_identity: ReceivedResourceIdentityData | null;
}
export interface PlanResourceChangeResponse {
  planned_state?: DynamicValue;
  requires_replace?: AttributePath[];
  planned_private?: Uint8Array;
  diagnostics?: Diagnostic[];
  deferred?: Deferred;
  planned_identity?: ResourceIdentityData;
  // legacy_type_system (field 5) is reserved for HashiCorp's legacy Go SDK: deliberately absent.
}

export interface ApplyResourceChangeRequest {
  type_name: string;
  prior_state: ReceivedDynamicValue | null;
  planned_state: ReceivedDynamicValue | null;
  config: ReceivedDynamicValue | null;
  planned_private: Buffer;
  provider_meta: ReceivedDynamicValue | null;
  planned_identity: ReceivedResourceIdentityData | null;
}
export interface ApplyResourceChangeResponse {
  new_state?: DynamicValue;
  private?: Uint8Array;
  diagnostics?: Diagnostic[];
  new_identity?: ResourceIdentityData;
}

export interface ImportResourceStateRequest {
  type_name: string;
  id: string;
  client_capabilities: ClientCapabilities | null;
  identity: ReceivedResourceIdentityData | null;
}
export interface ImportedResource {
  type_name: string;
  state?: DynamicValue;
  private?: Uint8Array;
  identity?: ResourceIdentityData;
}
export interface ImportResourceStateResponse {
  imported_resources?: ImportedResource[];
  diagnostics?: Diagnostic[];
  deferred?: Deferred;
}

export interface MoveResourceStateRequest {
  source_provider_address: string;
  source_type_name: string;
  source_schema_version: number;
  source_state: ReceivedRawState | null;
  target_type_name: string;
  source_private: Buffer;
  source_identity: ReceivedRawState | null;
  source_identity_schema_version: number;
}
export interface MoveResourceStateResponse {
  target_state?: DynamicValue;
  diagnostics?: Diagnostic[];
  target_private?: Uint8Array;
  target_identity?: ResourceIdentityData;
}

export interface ReadDataSourceRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
  provider_meta: ReceivedDynamicValue | null;
  client_capabilities: ClientCapabilities | null;
}
export interface ReadDataSourceResponse {
  state?: DynamicValue;
  diagnostics?: Diagnostic[];
  deferred?: Deferred;
}

export interface GenerateResourceConfigRequest {
  type_name: string;
  state: ReceivedDynamicValue | null;
}
export interface GenerateResourceConfigResponse {
  config?: DynamicValue;
  diagnostics?: Diagnostic[];
}

// ---------------------------------------------------------------------------------------
// Ephemeral resources

export interface ValidateEphemeralResourceConfigRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
}
export type ValidateEphemeralResourceConfigResponse = DiagnosticsResponse;

export interface OpenEphemeralResourceRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
  client_capabilities: ClientCapabilities | null;
}
export interface OpenEphemeralResourceResponse {
  diagnostics?: Diagnostic[];
  renew_at?: Timestamp;
  result?: DynamicValue;
  private?: Uint8Array;
  deferred?: Deferred;
}

export interface RenewEphemeralResourceRequest {
  type_name: string;
  /** Absent when the open response carried none. */
  private?: Buffer;
}
export interface RenewEphemeralResourceResponse {
  diagnostics?: Diagnostic[];
  renew_at?: Timestamp;
  private?: Uint8Array;
}

export interface CloseEphemeralResourceRequest {
  type_name: string;
  private?: Buffer;
}
export type CloseEphemeralResourceResponse = DiagnosticsResponse;

// ---------------------------------------------------------------------------------------
// List resources

export interface ListResourceRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
  include_resource_object: boolean;
  limit: number;
}
export interface ListResourceEvent {
  identity?: ResourceIdentityData;
  display_name?: string;
  resource_object?: DynamicValue;
  /** Singular on the wire, although a list. */
  diagnostic?: Diagnostic[];
}

export interface ValidateListResourceConfigRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
  include_resource_object: ReceivedDynamicValue | null;
  limit: ReceivedDynamicValue | null;
}
export type ValidateListResourceConfigResponse = DiagnosticsResponse;

// ---------------------------------------------------------------------------------------
// Functions

export type GetFunctionsRequest = Record<string, never>;
export interface GetFunctionsResponse {
  functions?: Record<string, FunctionDefinition>;
  diagnostics?: Diagnostic[];
}

export interface CallFunctionRequest {
  name: string;
  arguments: ReceivedDynamicValue[];
}
export interface CallFunctionResponse {
  result?: DynamicValue;
  error?: FunctionError;
}

// ---------------------------------------------------------------------------------------
// Actions

export interface ValidateActionConfigRequest {
  action_type: string;
  config: ReceivedDynamicValue | null;
}
export type ValidateActionConfigResponse = DiagnosticsResponse;

export interface PlanActionRequest {
  action_type: string;
  config: ReceivedDynamicValue | null;
  client_capabilities: ClientCapabilities | null;
}
export interface PlanActionResponse {
  diagnostics?: Diagnostic[];
  deferred?: Deferred;
}

export interface InvokeActionRequest {
  action_type: string;
  config: ReceivedDynamicValue | null;
  client_capabilities: ClientCapabilities | null;
}
export type InvokeActionEvent =
  | { progress: { message: string } }
  | { completed: { diagnostics?: Diagnostic[] } };

// ---------------------------------------------------------------------------------------
// State stores (experimental in the protocol)

export interface StateByteRange {
  start: number;
  end: number;
}

export interface ValidateStateStoreConfigRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
}
export type ValidateStateStoreConfigResponse = DiagnosticsResponse;

export interface ConfigureStateStoreRequest {
  type_name: string;
  config: ReceivedDynamicValue | null;
  capabilities: { chunk_size: number } | null;
}
export interface ConfigureStateStoreResponse {
  diagnostics?: Diagnostic[];
  capabilities?: { chunk_size?: number };
}

export interface ReadStateBytesRequest {
  type_name: string;
  state_id: string;
}
export interface ReadStateBytesChunk {
  bytes?: Uint8Array;
  total_length?: number;
  range?: Partial<StateByteRange>;
  diagnostics?: Diagnostic[];
}

export interface WriteStateBytesChunk {
  /** Only on the first chunk. */
  meta?: { type_name: string; state_id: string };
  bytes: Buffer;
  total_length: number;
  range: StateByteRange | null;
}
export type WriteStateBytesResponse = DiagnosticsResponse;

export interface LockStateRequest {
  type_name: string;
  state_id: string;
  operation: string;
}
export interface LockStateResponse {
  lock_id?: string;
  diagnostics?: Diagnostic[];
}

export interface UnlockStateRequest {
  type_name: string;
  state_id: string;
  lock_id: string;
}
export type UnlockStateResponse = DiagnosticsResponse;

export interface GetStatesRequest {
  type_name: string;
}
export interface GetStatesResponse {
  state_ids?: string[];
  diagnostics?: Diagnostic[];
}

export interface DeleteStateRequest {
  type_name: string;
  state_id: string;
}
export type DeleteStateResponse = DiagnosticsResponse;

// ---------------------------------------------------------------------------------------
// Stop

export type StopProviderRequest = Record<string, never>;
export interface StopProviderResponse {
  /** Empty or absent for success. */
  Error?: string;
}

// ---------------------------------------------------------------------------------------
// Handlers

/** Given to every handler call. */
export interface CallContext {
  /** The RPC's name as in the protocol, e.g. "PlanResourceChange". */
  readonly rpc: string;
  /**
   * Aborted when Terraform asks the provider to stop (StopProvider: Ctrl-C), when the host
   * cancels this call or its deadline passes, and when the plugin shuts down. Pass it to
   * fetch() and other cancellable work.
   */
  readonly signal: AbortSignal;
  /** Logs to stderr in hclog's JSON format, which Terraform shows under TF_LOG_PROVIDER. */
  readonly log: Logger;
}

/**
 * One async method per tfplugin6 RPC. Requests and responses are the plain objects above.
 * Report problems as diagnostics in the response: a handler that throws is answered with an
 * error diagnostic ("Unexpected error in <RPC>") rather than a gRPC failure, so Terraform
 * shows it like any other provider error.
 *
 * Only getProviderSchema is required. For the others, leaving a method out means:
 * - ValidateProviderConfig, ValidateResourceConfig, ValidateDataResourceConfig,
 *   ConfigureProvider, StopProvider: success with no diagnostics (StopProvider still aborts
 *   every CallContext.signal in flight);
 * - GetFunctions: the functions of getProviderSchema's answer;
 * - UpgradeResourceState, ReadResource, PlanResourceChange, ApplyResourceChange,
 *   ImportResourceState, ReadDataSource: an error diagnostic naming the RPC and type
 *   (Terraform only calls them for types the schema declares);
 * - every other RPC: gRPC status UNIMPLEMENTED, which Terraform tolerates for them because it
 *   either treats UNIMPLEMENTED as "not supported" (GetMetadata, GetResourceIdentitySchemas)
 *   or only calls them for features the schema or server capabilities declare.
 */
export interface ProviderHandlers {
  getProviderSchema(req: GetProviderSchemaRequest, ctx: CallContext): Promise<GetProviderSchemaResponse>;
  getMetadata?(req: GetMetadataRequest, ctx: CallContext): Promise<GetMetadataResponse>;
  getResourceIdentitySchemas?(req: GetResourceIdentitySchemasRequest, ctx: CallContext): Promise<GetResourceIdentitySchemasResponse>;

  validateProviderConfig?(req: ValidateProviderConfigRequest, ctx: CallContext): Promise<ValidateProviderConfigResponse>;
  validateResourceConfig?(req: ValidateResourceConfigRequest, ctx: CallContext): Promise<ValidateResourceConfigResponse>;
  validateDataResourceConfig?(req: ValidateDataResourceConfigRequest, ctx: CallContext): Promise<ValidateDataResourceConfigResponse>;
  upgradeResourceState?(req: UpgradeResourceStateRequest, ctx: CallContext): Promise<UpgradeResourceStateResponse>;
  upgradeResourceIdentity?(req: UpgradeResourceIdentityRequest, ctx: CallContext): Promise<UpgradeResourceIdentityResponse>;
  configureProvider?(req: ConfigureProviderRequest, ctx: CallContext): Promise<ConfigureProviderResponse>;

  readResource?(req: ReadResourceRequest, ctx: CallContext): Promise<ReadResourceResponse>;
  planResourceChange?(req: PlanResourceChangeRequest, ctx: CallContext): Promise<PlanResourceChangeResponse>;
  applyResourceChange?(req: ApplyResourceChangeRequest, ctx: CallContext): Promise<ApplyResourceChangeResponse>;
  importResourceState?(req: ImportResourceStateRequest, ctx: CallContext): Promise<ImportResourceStateResponse>;
  moveResourceState?(req: MoveResourceStateRequest, ctx: CallContext): Promise<MoveResourceStateResponse>;
  readDataSource?(req: ReadDataSourceRequest, ctx: CallContext): Promise<ReadDataSourceResponse>;
  generateResourceConfig?(req: GenerateResourceConfigRequest, ctx: CallContext): Promise<GenerateResourceConfigResponse>;

  validateEphemeralResourceConfig?(req: ValidateEphemeralResourceConfigRequest, ctx: CallContext): Promise<ValidateEphemeralResourceConfigResponse>;
  openEphemeralResource?(req: OpenEphemeralResourceRequest, ctx: CallContext): Promise<OpenEphemeralResourceResponse>;
  renewEphemeralResource?(req: RenewEphemeralResourceRequest, ctx: CallContext): Promise<RenewEphemeralResourceResponse>;
  closeEphemeralResource?(req: CloseEphemeralResourceRequest, ctx: CallContext): Promise<CloseEphemeralResourceResponse>;

  /** Server streaming: yield events; the stream ends when the iterable does. */
  listResource?(req: ListResourceRequest, ctx: CallContext): AsyncIterable<ListResourceEvent>;
  validateListResourceConfig?(req: ValidateListResourceConfigRequest, ctx: CallContext): Promise<ValidateListResourceConfigResponse>;

  getFunctions?(req: GetFunctionsRequest, ctx: CallContext): Promise<GetFunctionsResponse>;
  /** Report failures in `error` (a FunctionError), not as diagnostics. */
  callFunction?(req: CallFunctionRequest, ctx: CallContext): Promise<CallFunctionResponse>;

  validateActionConfig?(req: ValidateActionConfigRequest, ctx: CallContext): Promise<ValidateActionConfigResponse>;
  planAction?(req: PlanActionRequest, ctx: CallContext): Promise<PlanActionResponse>;
  /** Server streaming: progress events, then one `completed` event. */
  invokeAction?(req: InvokeActionRequest, ctx: CallContext): AsyncIterable<InvokeActionEvent>;

  validateStateStoreConfig?(req: ValidateStateStoreConfigRequest, ctx: CallContext): Promise<ValidateStateStoreConfigResponse>;
  configureStateStore?(req: ConfigureStateStoreRequest, ctx: CallContext): Promise<ConfigureStateStoreResponse>;
  /** Server streaming: yield the state in chunks. */
  readStateBytes?(req: ReadStateBytesRequest, ctx: CallContext): AsyncIterable<ReadStateBytesChunk>;
  /** Client streaming: consume the chunks, then answer once. */
  writeStateBytes?(chunks: AsyncIterable<WriteStateBytesChunk>, ctx: CallContext): Promise<WriteStateBytesResponse>;
  lockState?(req: LockStateRequest, ctx: CallContext): Promise<LockStateResponse>;
  unlockState?(req: UnlockStateRequest, ctx: CallContext): Promise<UnlockStateResponse>;
  getStates?(req: GetStatesRequest, ctx: CallContext): Promise<GetStatesResponse>;
  deleteState?(req: DeleteStateRequest, ctx: CallContext): Promise<DeleteStateResponse>;

  /**
   * Terraform's request to cancel in-flight work (Ctrl-C). The transport aborts every
   * CallContext.signal in flight before calling this; new calls get a fresh signal.
   */
  stopProvider?(req: StopProviderRequest, ctx: CallContext): Promise<StopProviderResponse>;
}

export type ProviderRpcName =
  | 'GetMetadata' | 'GetProviderSchema' | 'GetResourceIdentitySchemas'
  | 'ValidateProviderConfig' | 'ValidateResourceConfig' | 'ValidateDataResourceConfig'
  | 'UpgradeResourceState' | 'UpgradeResourceIdentity' | 'ConfigureProvider'
  | 'ReadResource' | 'PlanResourceChange' | 'ApplyResourceChange' | 'ImportResourceState'
  | 'MoveResourceState' | 'ReadDataSource' | 'GenerateResourceConfig'
  | 'ValidateEphemeralResourceConfig' | 'OpenEphemeralResource' | 'RenewEphemeralResource' | 'CloseEphemeralResource'
  | 'ListResource' | 'ValidateListResourceConfig'
  | 'GetFunctions' | 'CallFunction'
  | 'ValidateActionConfig' | 'PlanAction' | 'InvokeAction'
  | 'ValidateStateStoreConfig' | 'ConfigureStateStore' | 'ReadStateBytes' | 'WriteStateBytes'
  | 'LockState' | 'UnlockState' | 'GetStates' | 'DeleteState'
  | 'StopProvider';
