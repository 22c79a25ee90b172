export { HealthModule, type HealthModuleOptions } from './health.module';
export {
  DEFAULT_READINESS_TIMEOUT_MS,
  LIVENESS_CHECKS,
  READINESS_CHECKS,
  type ReadinessCheck,
} from './readiness-check';
