export * from './bearer-token.verifier';
export * from './management.module';
export * from './management-routes';
