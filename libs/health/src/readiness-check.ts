/**
 * One dependency the app needs before it can do useful work (database, Kafka broker, …).
 * `check()` resolves when ready and rejects with a message saying what is wrong otherwise.
 * Checks run on every readiness probe: keep them cheap and bounded.
 */
export interface ReadinessCheck {
  /** Key of this check in the readiness response; unique per app. */
  readonly name: string;
  /** Overrides the module-wide per-check timeout. */
  readonly timeoutMs?: number;
  check(): Promise<void>;
}

/** Multi-provider token: the `ReadinessCheck[]` that `GET /health/ready` runs. */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** Token of the `ReadinessCheck[]` that `GET /health/live` runs (same shape; see HealthModuleOptions.liveness). */
export const LIVENESS_CHECKS = Symbol('LIVENESS_CHECKS');

export const DEFAULT_READINESS_TIMEOUT_MS = 3_000;
