export * from './lib/acs-connection-string';
export * from './lib/acs-email-api';
export * from './lib/acs-request-signer';
export * from './lib/acs-production.settings';
