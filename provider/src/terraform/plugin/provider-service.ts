// Wires ProviderHandlers to the tfplugin6.Provider gRPC service: one wrapper per RPC that
// builds the CallContext, turns exceptions into error diagnostics, applies the defaults for
// handlers left out (see ProviderHandlers), and never lets a response that cannot be encoded
// turn into a transport failure.
import type { EventEmitter } from 'node:events';
import {
  status,
  type MethodDefinition,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { errorDiagnostic, unexpectedErrorDiagnostic } from './diagnostics.ts';
import type { Logger } from './log.ts';
import type { CallContext, Diagnostic, ProviderHandlers, ProviderRpcName } from './types.ts';

type Kind = 'unary' | 'server-stream' | 'client-stream';

/**
 * What a missing handler answers:
 * - unimplemented: gRPC UNIMPLEMENTED (only RPCs Terraform tolerates it for, or never calls
 *   unless the schema or server capabilities declare the feature);
 * - ok: success without diagnostics;
 * - unsupported: an error diagnostic naming the RPC and type;
 * - functions: the functions from GetProviderSchema.
 */
type Missing = 'unimplemented' | 'ok' | 'unsupported' | 'functions';

export const PROVIDER_RPCS: Record<ProviderRpcName, { kind: Kind; missing: Missing }> = {
  GetMetadata: { kind: 'unary', missing: 'unimplemented' },
  GetProviderSchema: { kind: 'unary', missing: 'unsupported' },
  GetResourceIdentitySchemas: { kind: 'unary', missing: 'unimplemented' },
  ValidateProviderConfig: { kind: 'unary', missing: 'ok' },
  ValidateResourceConfig: { kind: 'unary', missing: 'ok' },
  ValidateDataResourceConfig: { kind: 'unary', missing: 'ok' },
  UpgradeResourceState: { kind: 'unary', missing: 'unsupported' },
  UpgradeResourceIdentity: { kind: 'unary', missing: 'unimplemented' },
  ConfigureProvider: { kind: 'unary', missing: 'ok' },
  ReadResource: { kind: 'unary', missing: 'unsupported' },
  PlanResourceChange: { kind: 'unary', missing: 'unsupported' },
  ApplyResourceChange: { kind: 'unary', missing: 'unsupported' },
  ImportResourceState: { kind: 'unary', missing: 'unsupported' },
  MoveResourceState: { kind: 'unary', missing: 'unimplemented' },
  ReadDataSource: { kind: 'unary', missing: 'unsupported' },
  GenerateResourceConfig: { kind: 'unary', missing: 'unimplemented' },
  ValidateEphemeralResourceConfig: { kind: 'unary', missing: 'unimplemented' },
  OpenEphemeralResource: { kind: 'unary', missing: 'unimplemented' },
  RenewEphemeralResource: { kind: 'unary', missing: 'unimplemented' },
  CloseEphemeralResource: { kind: 'unary', missing: 'unimplemented' },
  ListResource: { kind: 'server-stream', missing: 'unimplemented' },
  ValidateListResourceConfig: { kind: 'unary', missing: 'unimplemented' },
  GetFunctions: { kind: 'unary', missing: 'functions' },
  CallFunction: { kind: 'unary', missing: 'unimplemented' },
  ValidateActionConfig: { kind: 'unary', missing: 'unimplemented' },
  PlanAction: { kind: 'unary', missing: 'unimplemented' },
  InvokeAction: { kind: 'server-stream', missing: 'unimplemented' },
  ValidateStateStoreConfig: { kind: 'unary', missing: 'unimplemented' },
  ConfigureStateStore: { kind: 'unary', missing: 'unimplemented' },
  ReadStateBytes: { kind: 'server-stream', missing: 'unimplemented' },
  WriteStateBytes: { kind: 'client-stream', missing: 'unimplemented' },
  LockState: { kind: 'unary', missing: 'unimplemented' },
  UnlockState: { kind: 'unary', missing: 'unimplemented' },
  GetStates: { kind: 'unary', missing: 'unimplemented' },
  DeleteState: { kind: 'unary', missing: 'unimplemented' },
  StopProvider: { kind: 'unary', missing: 'ok' },
};

export function handlerName(rpc: ProviderRpcName): keyof ProviderHandlers {
  return `${rpc[0]!.toLowerCase()}${rpc.slice(1)}` as keyof ProviderHandlers;
}

/** The response (or stream event) carrying one error diagnostic, in the shape each RPC has. */
export function failureResponse(rpc: string, d: Diagnostic): Record<string, unknown> {
  switch (rpc) {
    case 'StopProvider':
      return { Error: d.detail ? `${d.summary}: ${d.detail}` : d.summary };
    case 'CallFunction':
      return { error: { text: d.detail ? `${d.summary}: ${d.detail}` : d.summary } };
    case 'ListResource':
      return { diagnostic: [d] };
    case 'InvokeAction':
      return { completed: { diagnostics: [d] } };
    default:
      return { diagnostics: [d] };
  }
}

export interface ProviderServiceOptions {
  handlers: ProviderHandlers;
  log: Logger;
  /** The signal for calls starting now: aborted by StopProvider and by shutdown. */
  stopSignal(): AbortSignal;
  /** Aborts the current stop signal and starts a fresh one (StopProvider). */
  stop(): void;
  /** Called with each call's cancel function while it runs, to abort it on shutdown. */
  track?(abort: () => void): () => void;
}


export function createProviderService(
  base: ServiceDefinition,
  options: ProviderServiceOptions,
): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const { handlers, log } = options;
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const implementation: UntypedServiceImplementation = {};

  for (const [rpcName, method] of Object.entries(base)) {
    const rpc = rpcName as ProviderRpcName;
    const spec = PROVIDER_RPCS[rpc];
    if (!spec) {
      // A method in the .proto this table does not know: leave it to grpc-js (UNIMPLEMENTED).
      definition[rpcName] = method;
      continue;
    }
    const encode = method.responseSerialize;
    definition[rpcName] = {
      ...method,
      responseSerialize: (value: unknown): Buffer => {
        try {
          return encode(value);
        } catch (err) {
          log.error('response cannot be encoded', { rpc, error: err });
          return encode(failureResponse(rpc, errorDiagnostic(`Invalid ${rpc} response`, `The Berth provider produced a ${rpc} response that cannot be encoded: ${(err as Error).message}. This is a bug in the provider.`)));
        }
      },
    };

    const context = (call: EventEmitter): { ctx: CallContext; done: () => void } => {
      const own = new AbortController();
      const onCancel = (): void => own.abort(new Error(`${rpc} cancelled by the host`));
      call.once('cancelled', onCancel);
      const untrack = options.track?.(() => own.abort(new Error('the provider is shutting down'))) ?? (() => {});
      const ctx: CallContext = {
        rpc,
        signal: AbortSignal.any([own.signal, options.stopSignal()]),
        log: log.with({ tf_rpc: rpc }),
      };
      return {
        ctx,
        done: () => {
          call.removeListener('cancelled', onCancel);
          untrack();
        },
      };
    };

    const key = handlerName(rpc);
    const provided = typeof handlers[key] === 'function';
    const unimplementedDetails = `the Berth provider does not implement ${rpc}`;

    if (spec.kind === 'unary') {
      implementation[rpcName] = (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>): void => {
        if (rpc === 'StopProvider') options.stop();
        if (!provided && spec.missing === 'unimplemented') {
          log.debug('unimplemented RPC called', { tf_rpc: rpc });
          callback({ code: status.UNIMPLEMENTED, details: unimplementedDetails });
          return;
        }
        const { ctx, done } = context(call);
        const started = performance.now();
        ctx.log.trace('received request');
        const run = async (): Promise<unknown> => {
          if (provided) {
            const fn = handlers[key] as (req: unknown, ctx: CallContext) => Promise<unknown>;
            return fn.call(handlers, call.request, ctx);
          }
          switch (spec.missing) {
            case 'ok':
              return {};
            case 'functions': {
              const schema = await handlers.getProviderSchema({}, ctx);
              return { functions: schema.functions ?? {}, diagnostics: schema.diagnostics ?? [] };
            }
            default: {
              const typeName = typeof call.request.type_name === 'string' ? call.request.type_name : '';
              return failureResponse(
                rpc,
                errorDiagnostic(`Unsupported operation ${rpc}`, `The Berth provider has no handler for ${rpc}${typeName ? ` (type "${typeName}")` : ''}.`),
              );
            }
          }
        };
        run().then(
          (response) => {
            done();
            ctx.log.trace('served request', { tf_req_duration_ms: Math.round(performance.now() - started) });
            callback(null, response ?? {});
          },
          (err: unknown) => {
            done();
            ctx.log.error('handler failed', { error: err });
            callback(null, failureResponse(rpc, unexpectedErrorDiagnostic(rpc, err)));
          },
        );
      };
    } else if (spec.kind === 'server-stream') {
      implementation[rpcName] = (call: ServerWritableStream<unknown, unknown>): void => {
        if (!provided) {
          log.debug('unimplemented RPC called', { tf_rpc: rpc });
          call.emit('error', { code: status.UNIMPLEMENTED, details: unimplementedDetails });
          return;
        }
        const { ctx, done } = context(call);
        ctx.log.trace('received request');
        const fn = handlers[key] as (req: unknown, ctx: CallContext) => AsyncIterable<unknown>;
        const pump = async (): Promise<void> => {
          try {
            for await (const event of fn.call(handlers, call.request, ctx)) {
              if (call.cancelled) break;
              if (!call.write(event)) {
                await new Promise<void>((resolve) => {
                  const finish = (): void => {
                    call.removeListener('drain', finish);
                    call.removeListener('cancelled', finish);
                    resolve();
                  };
                  call.once('drain', finish);
                  call.once('cancelled', finish);
                });
              }
            }
          } catch (err) {
            ctx.log.error('handler failed', { error: err });
            if (!call.cancelled) call.write(failureResponse(rpc, unexpectedErrorDiagnostic(rpc, err)));
          } finally {
            done();
            if (!call.cancelled) call.end();
            ctx.log.trace('served request');
          }
        };
        void pump();
      };
    } else {
      implementation[rpcName] = (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>): void => {
        if (!provided) {
          log.debug('unimplemented RPC called', { tf_rpc: rpc });
          callback({ code: status.UNIMPLEMENTED, details: unimplementedDetails });
          return;
        }
        const { ctx, done } = context(call);
        ctx.log.trace('received request');
        const fn = handlers[key] as (chunks: AsyncIterable<unknown>, ctx: CallContext) => Promise<unknown>;
        Promise.resolve()
          .then(() => fn.call(handlers, call as AsyncIterable<unknown>, ctx))
          .then(
            (response) => {
              done();
              callback(null, response ?? {});
            },
            (err: unknown) => {
              done();
              ctx.log.error('handler failed', { error: err });
              callback(null, failureResponse(rpc, unexpectedErrorDiagnostic(rpc, err)));
            },
          );
      };
    }
  }
  return { definition: definition as ServiceDefinition, implementation };
}
