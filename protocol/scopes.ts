/** Roles and operator scopes (protocol-openclaw.md §6). */

export const ROLES = ['operator', 'node'] as const;
export type Role = (typeof ROLES)[number];

export const Scope = {
  READ: 'operator.read',
  WRITE: 'operator.write',
  ADMIN: 'operator.admin',
  APPROVALS: 'operator.approvals',
  QUESTIONS: 'operator.questions',
  PAIRING: 'operator.pairing',
  TALK: 'operator.talk',
  TALK_SECRETS: 'operator.talk.secrets',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

/** What a method needs: a scope, or nothing at all (`health`). */
export type MethodScope = Scope | 'none';

const IMPLIED: Readonly<Record<string, readonly Scope[]>> = {
  [Scope.WRITE]: [Scope.READ, Scope.TALK],
};

/** `admin` satisfies every scope; `write` satisfies `read` and `talk`. */
export function scopeSatisfied(required: MethodScope, granted: readonly string[]): boolean {
  if (required === 'none') return true;
  if (granted.includes(Scope.ADMIN) || granted.includes(required)) return true;
  return granted.some((scope) => IMPLIED[scope]?.includes(required) ?? false);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Every scope a set of granted scopes satisfies (plus `none`), computed once per connection. */
export function satisfiedScopes(granted: readonly string[]): ReadonlySet<MethodScope> {
  const all: MethodScope[] = ['none', ...Object.values(Scope)];
  return new Set(all.filter((scope) => scopeSatisfied(scope, granted)));
}
