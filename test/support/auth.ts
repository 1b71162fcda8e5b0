// The administrator every test registry starts with, and fetch that signs in as it unless a
// request brings its own Authorization header.
export const testAdmin = Object.freeze({ accessKeyId: 'BKIATESTADMINKEY2345', secretAccessKey: 'berth-test-admin-secret-0123456789' });

export function basicAuth(accessKeyId: string, secretAccessKey: string): string {
  return `Basic ${Buffer.from(`${accessKeyId}:${secretAccessKey}`).toString('base64')}`;
}

export const adminAuthorization = basicAuth(testAdmin.accessKeyId, testAdmin.secretAccessKey);

/** Environment for a registry process started by a test (bootstraps the test admin). */
export const adminEnv = { BERTH_ADMIN_ACCESS_KEY_ID: testAdmin.accessKeyId, BERTH_ADMIN_SECRET_ACCESS_KEY: testAdmin.secretAccessKey };

/** fetch as the test admin; pass an Authorization header (even "") to send something else. */
export const adminFetch: typeof fetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', adminAuthorization);
  else if (headers.get('authorization') === '') headers.delete('authorization');
  return fetch(input, { ...init, headers });
};
