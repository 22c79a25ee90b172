// One implementation for every app (libs/observability): the same `type` rule and body everywhere.
export {
  problem,
  ProblemException,
  problemTitle,
  problemType,
  type ProblemDetails,
} from '@notifications/observability';
