export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

export interface ResolvedHealthOptions {
  readonly timeoutMs: number;
}
