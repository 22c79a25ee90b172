import {
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type Type,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HEALTH_OPTIONS, type ResolvedHealthOptions } from './health.options';
import {
  DEFAULT_READINESS_TIMEOUT_MS,
  LIVENESS_CHECKS,
  READINESS_CHECKS,
  type ReadinessCheck,
} from './readiness-check';

export interface HealthModuleOptions {
  /** Modules that export the providers named in `inject`. */
  readonly imports?: ModuleMetadata['imports'];
  /**
   * Checks as classes, provided (and constructed) by the health module — their dependencies must come from
   * `imports` or a global module, like TypeORM's `DataSource` — or as ready-made objects.
   */
  readonly checks?: ReadonlyArray<Type<ReadinessCheck> | ReadinessCheck>;
  /** Tokens of `ReadinessCheck` providers exported by `imports` (or by a global module). */
  readonly inject?: ReadonlyArray<InjectionToken<ReadinessCheck>>;
  /**
   * Checks for `GET /health/live`, for what only a restart cures (a consumer that crashed or stalled) — never a
   * dependency: a liveness failure restarts the pod, and restarting every replica during an outage makes it worse.
   */
  readonly liveness?: {
    readonly checks?: readonly ReadinessCheck[];
    readonly inject?: ReadonlyArray<InjectionToken<ReadinessCheck>>;
  };
  /** Bound of each check unless it sets its own `timeoutMs`; default 3000 ms. */
  readonly timeoutMs?: number;
}

/** `GET /health/live` and `GET /health/ready` for Kubernetes probes. */
@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions = {}): DynamicModule {
    const checks = options.checks ?? [];
    const classes = checks.filter((check): check is Type<ReadinessCheck> => typeof check === 'function');
    const instances = checks.filter((check): check is ReadinessCheck => typeof check !== 'function');
    const resolved: ResolvedHealthOptions = { timeoutMs: options.timeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS };
    if (!Number.isFinite(resolved.timeoutMs) || resolved.timeoutMs <= 0) {
      throw new TypeError(`HealthModule: timeoutMs must be a positive number, got ${resolved.timeoutMs}`);
    }
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), ...(options.imports ?? [])],
      controllers: [HealthController],
      providers: [
        ...classes,
        { provide: HEALTH_OPTIONS, useValue: resolved },
        {
          provide: READINESS_CHECKS,
          useFactory: (...injected: ReadinessCheck[]) => validateChecks([...injected, ...instances]),
          inject: [...classes, ...(options.inject ?? [])],
        },
        {
          provide: LIVENESS_CHECKS,
          useFactory: (...injected: ReadinessCheck[]) =>
            validateChecks([...injected, ...(options.liveness?.checks ?? [])]),
          inject: [...(options.liveness?.inject ?? [])],
        },
      ],
      exports: [READINESS_CHECKS],
    };
  }
}

function validateChecks(checks: readonly ReadinessCheck[]): readonly ReadinessCheck[] {
  const names = new Set<string>();
  for (const check of checks) {
    if (typeof check.name !== 'string' || check.name === '' || typeof check.check !== 'function') {
      throw new TypeError(
        `HealthModule: not a ReadinessCheck (needs a name and a check() method): ${String(check)}`,
      );
    }
    // Names are the keys of the readiness response: a duplicate would hide one result behind the other.
    if (names.has(check.name))
      throw new TypeError(`HealthModule: duplicate readiness check name "${check.name}"`);
    names.add(check.name);
  }
  return checks;
}
