// The first start of an empty registry makes an administrator, so that nothing is ever reachable
// through a default password: its key comes from the environment or is generated and shown once.
import { canonicalPolicyText } from '../api/policy-text.ts';
import { hashSecret, newAccessKeyId, newSecret, accessKeyIdPattern } from './secret-hash.ts';
import type { IdentityStore } from './identity-store.ts';

export const adminPrincipal = 'admin';
export const adminPolicyName = 'AdministratorAccess';
const adminPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'AdministratorAccess', Effect: 'Allow', Action: '*', Resource: '*' }] });

export interface AdminCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export type BootstrapResult =
  | { readonly status: 'exists' }
  /** `secretAccessKey` is set only when Berth generated it (the caller shows it once). */
  | { readonly status: 'created'; readonly accessKeyId: string; readonly generatedSecret?: string };

/** Checks credentials given through BERTH_ADMIN_ACCESS_KEY_ID / BERTH_ADMIN_SECRET_ACCESS_KEY. */
export function checkAdminCredentials(given: Partial<AdminCredentials>): AdminCredentials | undefined {
  const { accessKeyId, secretAccessKey } = given;
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error('BERTH_ADMIN_ACCESS_KEY_ID and BERTH_ADMIN_SECRET_ACCESS_KEY must be given together');
  }
  if (!accessKeyIdPattern.test(accessKeyId)) throw new Error('BERTH_ADMIN_ACCESS_KEY_ID must be BKIA followed by 16 of A-Z and 2-7');
  if (!/^[\x21-\x7e]{20,128}$/.test(secretAccessKey)) throw new Error('BERTH_ADMIN_SECRET_ACCESS_KEY must be 20 to 128 printable characters without spaces');
  return { accessKeyId, secretAccessKey };
}

/** Creates the admin principal, its policy and key when the registry has no principal at all. */
export async function bootstrapAdmin(store: IdentityStore, given: AdminCredentials | undefined): Promise<BootstrapResult> {
  if ((await store.countPrincipals()) > 0) return { status: 'exists' };
  const created = await store.createPrincipal(adminPrincipal, { type: 'USER', description: 'Created at first start; holds AdministratorAccess.' });
  // Another replica bootstrapping at the same moment won.
  if (created.status !== 'ok') return { status: 'exists' };
  await store.putPolicy(adminPrincipal, adminPolicyName, canonicalPolicyText(adminPolicy, 'policyText', 'identity'), undefined);
  const accessKeyId = given?.accessKeyId ?? newAccessKeyId();
  const secret = given?.secretAccessKey ?? newSecret();
  await store.createAccessKey(accessKeyId, {
    principalName: adminPrincipal,
    status: 'Active',
    description: given ? 'Bootstrap key from the environment' : 'Bootstrap key generated at first start',
    secretHash: await hashSecret(secret),
    createdAt: new Date().toISOString(),
  });
  return given ? { status: 'created', accessKeyId } : { status: 'created', accessKeyId, generatedSecret: secret };
}
