import test from 'ava';
import { accessFromClaim, coversAccess, formatScope, intersectAccess, parseScopes, type Access } from '../../src/auth/scope.ts';

function scopes(values: string | string[] | undefined, maxScopes?: number): Access[] {
  const result = parseScopes(values, maxScopes === undefined ? undefined : { maxScopes });
  if (!result.ok) throw new Error(result.error);
  return result.scopes;
}

function error(values: string | string[] | undefined, maxScopes?: number): string {
  const result = parseScopes(values, maxScopes === undefined ? undefined : { maxScopes });
  return result.ok ? 'ok' : result.error;
}

test('valid scopes', (t) => {
  t.deepEqual(scopes(undefined), []);
  t.deepEqual(scopes([]), []);
  t.deepEqual(scopes(''), []);
  t.deepEqual(scopes('repository:team/app:pull,push'), [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
  t.deepEqual(scopes('repository:team/app:push,pull'), [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
  t.deepEqual(scopes('repository(plugin):x:pull'), [{ type: 'repository', class: 'plugin', name: 'x', actions: ['pull'] }]);
  t.deepEqual(scopes('registry:catalog:*'), [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
  t.deepEqual(scopes('repository:host:5000/app:pull'), [{ type: 'repository', name: 'host:5000/app', actions: ['pull'] }]);
  t.deepEqual(scopes('repository:a.b_c-d/e:delete'), [{ type: 'repository', name: 'a.b_c-d/e', actions: ['delete'] }]);
  t.deepEqual(scopes(`repository:${'a'.repeat(256)}:pull`)[0]?.name.length, 256);
});

test('invalid scopes', (t) => {
  const bad = [
    'repository',
    'repository:app',
    ':app:pull',
    'repository::pull',
    'repository:app:',
    'repository:app:pull,',
    'repository:app:,pull',
    'repository:app:pu*sh',
    'repository:app:PULL',
    'repository:App:pull',
    'Repository:app:pull',
    'repo1:app:pull',
    'repository(Plugin):app:pull',
    'repository(plugin:app:pull',
    'repository():app:pull',
    'repository:app name:pull',
    'repository:app%2f:pull',
    `repository:${'a'.repeat(257)}:pull`,
    `repository:app:${'pull,'.repeat(200)}pull`,
  ];
  for (const text of bad) t.not(error(text), 'ok', text);
  t.regex(error('repository:App:pull'), /invalid scope name/);
  t.regex(error('repository:app:pu*sh'), /invalid scope actions/);
  t.regex(error('Repository:app:pull'), /invalid scope type/);
  // One bad scope spoils the whole request.
  t.not(error(['repository:a:pull', 'repository:B:pull']), 'ok');
  t.is(error([5 as unknown as string]), 'scope is not a string');
});

test('space-separated and repeated parameters combine', (t) => {
  t.deepEqual(scopes('repository:a:pull repository:b:push'), [
    { type: 'repository', name: 'a', actions: ['pull'] },
    { type: 'repository', name: 'b', actions: ['push'] },
  ]);
  t.deepEqual(scopes(['repository:a:pull  registry:catalog:*', 'repository:b:pull']).map(formatScope), [
    'repository:a:pull',
    'registry:catalog:*',
    'repository:b:pull',
  ]);
});

test('duplicates merge into a sorted union of actions', (t) => {
  t.deepEqual(scopes(['repository:a:push', 'repository:a:pull,push repository:a:pull']), [
    { type: 'repository', name: 'a', actions: ['pull', 'push'] },
  ]);
  t.deepEqual(scopes('repository:a:pull repository:a:*'), [{ type: 'repository', name: 'a', actions: ['*', 'pull'] }]);
  t.deepEqual(scopes('repository:a:pull,pull'), [{ type: 'repository', name: 'a', actions: ['pull'] }]);
  // A different class or type is a different entry.
  t.is(scopes('repository:a:pull repository(plugin):a:pull registry:a:pull').length, 3);
});

test('the number of scopes is capped', (t) => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `repository:r${i}:pull`);
  t.is(scopes(many(16)).length, 16);
  t.is(error(many(17)), 'more than 16 scopes');
  t.is(error(many(17).join(' ')), 'more than 16 scopes');
  t.is(scopes(many(3), 3).length, 3);
  t.is(error(many(4), 3), 'more than 3 scopes');
  // Repeats of one scope merge, but not without bound.
  t.is(scopes(Array(64).fill('repository:a:pull')).length, 1);
  t.is(error(Array(65).fill('repository:a:pull')), 'more than 16 scopes');
  t.is(error(Array(65).fill('repository:a:pull').join(' ')), 'more than 16 scopes');
});

test('formatScope inverts parsing', (t) => {
  for (const text of ['repository:team/app:pull,push', 'repository(plugin):x:pull', 'registry:catalog:*', 'repository:host:5000/app:pull']) {
    t.is(formatScope(scopes(text)[0]!), text);
  }
});

test('intersectAccess narrows to what is granted', (t) => {
  const requested = scopes('repository:a:pull,push repository:b:pull,push repository:c:* repository(plugin):d:pull repository:e:delete');
  const grants: Record<string, string[]> = { a: ['pull'], b: ['*'], c: ['push', 'pull', 'pull'], d: ['pull', 'push'], e: [] };
  const calls: Access[] = [];
  const result = intersectAccess(requested, (entry) => {
    calls.push(entry);
    return grants[entry.name] ?? [];
  });
  t.deepEqual(result, [
    { type: 'repository', name: 'a', actions: ['pull'] },
    { type: 'repository', name: 'b', actions: ['pull', 'push'] },
    { type: 'repository', name: 'c', actions: ['pull', 'push'] },
    { type: 'repository', class: 'plugin', name: 'd', actions: ['pull'] },
  ]);
  t.is(calls.length, 5);
  t.deepEqual(intersectAccess(scopes('repository:x:pull'), () => ['push']), []);
  t.deepEqual(intersectAccess([], () => ['*']), []);
  // The request is not changed in place.
  t.deepEqual(requested[0]?.actions, ['pull', 'push']);
});

test('coversAccess', (t) => {
  const token = scopes('repository:a:pull repository:b:* registry:catalog:*');
  t.true(coversAccess(token, 'repository', 'a', 'pull'));
  t.false(coversAccess(token, 'repository', 'a', 'push'));
  t.false(coversAccess(token, 'repository', 'a', '*'));
  t.true(coversAccess(token, 'repository', 'b', 'delete'));
  t.true(coversAccess(token, 'registry', 'catalog', '*'));
  t.false(coversAccess(token, 'registry', 'a', 'pull'));
  t.false(coversAccess(token, 'repository', 'a/b', 'pull'));
  t.false(coversAccess(token, 'repository', 'A', 'pull'));
  t.false(coversAccess([], 'repository', 'a', 'pull'));
});

test('accessFromClaim checks the claim shape', (t) => {
  t.deepEqual(accessFromClaim(undefined), []);
  t.deepEqual(accessFromClaim([{ type: 'repository', name: 'a', actions: ['pull'] }]), [{ type: 'repository', name: 'a', actions: ['pull'] }]);
  t.deepEqual(accessFromClaim([{ type: 'repository', class: 'plugin', name: 'a', actions: [] }]), [
    { type: 'repository', class: 'plugin', name: 'a', actions: [] },
  ]);
  t.is(accessFromClaim('repository:a:pull'), undefined);
  t.is(accessFromClaim([null]), undefined);
  t.is(accessFromClaim([{ type: 'repository', name: 'a', actions: 'pull' }]), undefined);
  t.is(accessFromClaim([{ type: 'repository', name: 'a', actions: [1] }]), undefined);
  t.is(accessFromClaim([{ type: 'repository', class: 1, name: 'a', actions: [] }]), undefined);
  t.is(accessFromClaim([{ name: 'a', actions: [] }]), undefined);
});
