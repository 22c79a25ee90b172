export * from './lib/expect-eventually';
export * from './lib/isolated-infra';
export * from './lib/arbitrary-records';
export * from './lib/operator-test-auth';
export * from './lib/app-process';
export * from './lib/acs-emulator';
export * from './lib/exported-classes';
export * from './lib/process-memory';
