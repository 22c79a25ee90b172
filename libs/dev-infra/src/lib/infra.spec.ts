import { startedByUp, type UpResult } from './infra';

// What `npm start`, `npm test` and the benchmarks stop when they are done: only what their own `up` started.
describe(startedByUp.name, () => {
  const kafka = (managed: boolean, action: string): UpResult['kafka'] => ({
    managed,
    action,
    brokers: '127.0.0.1:9092',
    clusterId: 'c',
  });
  const postgres = (embedded: boolean, action: string): UpResult['postgres'] => ({
    managed: embedded,
    embedded,
    action,
    url: 'postgres://postgres@127.0.0.1:5432/notifications',
    database: 'notifications',
    databaseCreated: false,
    ms: 1,
  });

  it('stops a broker and an embedded PostgreSQL that this up started (fresh box, nothing running)', () => {
    expect(
      startedByUp({
        kafka: kafka(true, 'started (new data dir), jars resolved in 9.0 s'),
        postgres: postgres(true, 'started embedded (new data dir)'),
      }),
    ).toEqual({ kafka: true, postgres: true });
  });

  it('leaves alone what was already running: this checkout reused, another checkout, external, a server', () => {
    expect(
      startedByUp({ kafka: kafka(true, 'reused'), postgres: postgres(true, 'reused embedded') }),
    ).toEqual({ kafka: false, postgres: false });
    expect(
      startedByUp({
        kafka: kafka(false, 'reused (not started by this checkout)'),
        postgres: postgres(false, 'existing server'),
      }),
    ).toEqual({ kafka: false, postgres: false });
    expect(startedByUp({ kafka: kafka(false, 'external'), postgres: undefined })).toEqual({
      kafka: false,
      postgres: false,
    });
  });
});
