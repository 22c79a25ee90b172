// The test helpers the benchmark needs (bench/ is not test code to the module-boundary rule, test/support is: the
// same route status-poller's benchmark takes).
export {
  EMULATOR_ACCESS_KEY,
  startAppProcess,
  WORKSPACE_ROOT,
  type AppProcess,
} from '@notifications/testing';
