export { ProblemDetailsFilter } from '@notifications/observability';
