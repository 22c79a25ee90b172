// `@notifications/database/testing`: helpers for tests only, kept out of the production entry point.
export { createTestDatabase, type TestDatabase, type TestDatabaseOptions } from './test-database';
