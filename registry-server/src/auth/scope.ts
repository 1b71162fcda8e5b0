// Docker registry token scopes: `type[(class)]:name:actions`, as sent in the `scope` query
// parameter of a token request and echoed back in the token's "access" claim.

/** One entry of the JWT "access" claim. `class` (e.g. "plugin") is kept only when the scope had one. */
export type Access = { type: string; class?: string; name: string; actions: string[] };

export type ScopeLimits = { maxScopes?: number };

export type ParseScopesResult = { ok: true; scopes: Access[] } | { ok: false; error: string };

const defaultMaxScopes = 16;
// Longest plausible scope: a 256-character name plus type, class and a few actions.
const maxScopeLength = 512;
const typePattern = /^([a-z]+)(?:\(([a-z0-9]+)\))?$/;
const namePattern = /^[a-z0-9._/:-]{1,256}$/;
// '*' stands alone: "pu*sh" is not an action and would only ever match by accident.
const actionPattern = /^(?:\*|[a-z]+)$/;

function parseOne(text: string): Access | string {
  if (text.length > maxScopeLength) return `scope longer than ${maxScopeLength} characters`;
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  // Repository names may hold ':' (host:port/app), so the name runs from the first to the last colon.
  if (first <= 0 || last === first) return `malformed scope "${text}"`;
  const typeMatch = typePattern.exec(text.slice(0, first));
  if (!typeMatch) return `invalid scope type in "${text}"`;
  const name = text.slice(first + 1, last);
  if (!namePattern.test(name)) return `invalid scope name in "${text}"`;
  const actions = text.slice(last + 1).split(',');
  if (!actions.every((a) => actionPattern.test(a))) return `invalid scope actions in "${text}"`;
  const access: Access = { type: typeMatch[1] as string, name, actions };
  if (typeMatch[2] !== undefined) access.class = typeMatch[2];
  return access;
}

function normalizeActions(actions: Iterable<string>): string[] {
  return [...new Set(actions)].sort();
}

/**
 * Scopes arrive as repeated `scope` parameters and/or space-separated within one. Entries for the
 * same type, class and name are merged so a client cannot inflate the token with repeats.
 */
export function parseScopes(values: string | string[] | undefined, limits: ScopeLimits = {}): ParseScopesResult {
  const maxScopes = limits.maxScopes ?? defaultMaxScopes;
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  // Bound the work before splitting: repeats are merged later, but not without limit.
  if (list.length > maxScopes * 4) return { ok: false, error: `more than ${maxScopes} scopes` };
  const merged = new Map<string, Access>();
  let seen = 0;
  for (const value of list) {
    if (typeof value !== 'string') return { ok: false, error: 'scope is not a string' };
    for (const text of value.split(' ')) {
      if (text === '') continue;
      if (++seen > maxScopes * 4) return { ok: false, error: `more than ${maxScopes} scopes` };
      const parsed = parseOne(text);
      if (typeof parsed === 'string') return { ok: false, error: parsed };
      const key = `${parsed.type}\u0000${parsed.class ?? ''}\u0000${parsed.name}`;
      const existing = merged.get(key);
      if (existing) {
        existing.actions = normalizeActions([...existing.actions, ...parsed.actions]);
        continue;
      }
      if (merged.size >= maxScopes) return { ok: false, error: `more than ${maxScopes} scopes` };
      parsed.actions = normalizeActions(parsed.actions);
      merged.set(key, parsed);
    }
  }
  return { ok: true, scopes: [...merged.values()] };
}

export function formatScope(a: Access): string {
  return `${a.type}${a.class !== undefined ? `(${a.class})` : ''}:${a.name}:${a.actions.join(',')}`;
}

/**
 * What a token may carry: each requested entry narrowed to what the caller is granted. A granted
 * '*' covers every requested action; a requested '*' takes the granted list whole.
 */
export function intersectAccess(requested: Access[], granted: (a: Access) => string[]): Access[] {
  const result: Access[] = [];
  for (const entry of requested) {
    const allowed = granted(entry);
    const actions = entry.actions.includes('*')
      ? normalizeActions(allowed)
      : allowed.includes('*')
        ? normalizeActions(entry.actions)
        : normalizeActions(entry.actions.filter((action) => allowed.includes(action)));
    if (actions.length === 0) continue;
    const narrowed: Access = { type: entry.type, name: entry.name, actions };
    if (entry.class !== undefined) narrowed.class = entry.class;
    result.push(narrowed);
  }
  return result;
}

/** Whether a verified token's access claim allows `action` on type:name (any class). */
export function coversAccess(token: Access[], type: string, name: string, action: string): boolean {
  return token.some((a) => a.type === type && a.name === name && (a.actions.includes(action) || a.actions.includes('*')));
}

/** Reads the "access" claim of a verified token; undefined when it is not the expected shape. */
export function accessFromClaim(value: unknown): Access[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return undefined;
  const result: Access[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { type, class: cls, name, actions } = item as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string') return undefined;
    if (cls !== undefined && typeof cls !== 'string') return undefined;
    if (!Array.isArray(actions) || !actions.every((a) => typeof a === 'string')) return undefined;
    const access: Access = { type, name, actions: [...(actions as string[])] };
    if (cls !== undefined) access.class = cls;
    result.push(access);
  }
  return result;
}
