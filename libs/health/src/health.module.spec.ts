import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthModule, type HealthModuleOptions } from './health.module';
import { type ReadinessCheck } from './readiness-check';

const passing = (name: string): ReadinessCheck => ({ name, check: () => Promise.resolve() });
const failing = (name: string, message: string): ReadinessCheck => ({
  name,
  check: () => Promise.reject(new Error(message)),
});
const hanging = (name: string, timeoutMs?: number): ReadinessCheck => ({
  name,
  ...(timeoutMs === undefined ? {} : { timeoutMs }),
  check: () => new Promise<void>(() => undefined),
});

interface Response {
  readonly status: number;
  readonly body: unknown;
  readonly elapsedMs: number;
}

describe(HealthModule.name, () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(options: HealthModuleOptions): Promise<(path: string) => Promise<Response>> {
    const moduleRef = await Test.createTestingModule({ imports: [HealthModule.forRoot(options)] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    return async (path) => {
      const started = performance.now();
      const response = await fetch(`${base}${path}`);
      return { status: response.status, body: await response.json(), elapsedMs: performance.now() - started };
    };
  }

  describe('GET /health/live', () => {
    it('answers 200 without running any readiness check', async () => {
      const check = jest.fn(() => Promise.reject(new Error('broker down')));
      const get = await start({ checks: [{ name: 'kafka', check }] });

      const response = await get('/health/live');

      expect(response).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(check).not.toHaveBeenCalled();
    });

    it('answers 503 naming a failing liveness check, and runs no readiness check', async () => {
      const readiness = jest.fn(() => Promise.reject(new Error('broker down')));
      const get = await start({
        checks: [{ name: 'kafka', check: readiness }],
        liveness: { checks: [failing('consumers', 'consumer group g crashed: boom'), passing('other')] },
      });

      const response = await get('/health/live');

      expect(response).toMatchObject({
        status: 503,
        body: {
          status: 'error',
          info: { other: { status: 'up' } },
          error: { consumers: { status: 'down', message: 'consumer group g crashed: boom' } },
        },
      });
      expect(readiness).not.toHaveBeenCalled();
    });

    it('answers 200 when every liveness check passes', async () => {
      const get = await start({ liveness: { checks: [passing('consumers')] } });

      expect(await get('/health/live')).toMatchObject({
        status: 200,
        body: { status: 'ok', details: { consumers: { status: 'up' } } },
      });
    });
  });

  describe('GET /health/ready', () => {
    it('answers 200 when every check passes', async () => {
      const get = await start({ checks: [passing('database'), passing('kafka')] });

      const response = await get('/health/ready');

      expect(response).toMatchObject({
        status: 200,
        body: { status: 'ok', details: { database: { status: 'up' }, kafka: { status: 'up' } } },
      });
    });

    it('answers 200 with no checks registered', async () => {
      const get = await start({});

      expect(await get('/health/ready')).toMatchObject({ status: 200, body: { status: 'ok' } });
    });

    it('answers 503 naming the failing check and its message', async () => {
      const get = await start({
        checks: [passing('database'), failing('kafka', 'broker 127.0.0.1:9092 unreachable')],
      });

      const response = await get('/health/ready');

      expect(response).toMatchObject({
        status: 503,
        body: {
          status: 'error',
          info: { database: { status: 'up' } },
          error: { kafka: { status: 'down', message: 'broker 127.0.0.1:9092 unreachable' } },
        },
      });
    });

    it('reports a check that throws synchronously like one that rejects', async () => {
      const get = await start({
        checks: [
          {
            name: 'sync',
            check: () => {
              throw new Error('not configured');
            },
          },
        ],
      });

      expect(await get('/health/ready')).toMatchObject({
        status: 503,
        body: { error: { sync: { status: 'down', message: 'not configured' } } },
      });
    });

    it('describes aggregate errors by their parts and non-errors as text', async () => {
      const get = await start({
        checks: [
          {
            name: 'database',
            check: () =>
              Promise.reject(
                new AggregateError([
                  new Error('connect ECONNREFUSED ::1:5432'),
                  new Error('connect ECONNREFUSED 127.0.0.1:5432'),
                ]),
              ),
          },
          { name: 'odd', check: () => Promise.reject('just a string') },
        ],
      });

      expect(await get('/health/ready')).toMatchObject({
        status: 503,
        body: {
          error: {
            database: { message: 'connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432' },
            odd: { message: 'just a string' },
          },
        },
      });
    });

    it('fails a hanging check after the module timeout', async () => {
      const get = await start({ checks: [passing('database'), hanging('kafka')], timeoutMs: 200 });

      const response = await get('/health/ready');

      expect(response).toMatchObject({
        status: 503,
        body: { error: { kafka: { status: 'down', message: 'kafka check did not finish within 200 ms' } } },
      });
      expect(response.elapsedMs).toBeLessThan(2_000);
    });

    it('lets a check set its own timeout', async () => {
      const get = await start({ checks: [hanging('kafka', 100)], timeoutMs: 60_000 });

      const response = await get('/health/ready');

      expect(response).toMatchObject({ status: 503, body: { error: { kafka: { status: 'down' } } } });
      expect(response.elapsedMs).toBeLessThan(2_000);
    });

    it('bounds a hanging check by 3 s by default', async () => {
      const get = await start({ checks: [hanging('kafka')] });

      const response = await get('/health/ready');

      expect(response).toMatchObject({
        status: 503,
        body: { error: { kafka: { message: 'kafka check did not finish within 3000 ms' } } },
      });
      expect(response.elapsedMs).toBeGreaterThanOrEqual(2_900);
      expect(response.elapsedMs).toBeLessThan(5_000);
    });

    it('runs the checks in parallel', async () => {
      // Each check waits for the other to have started: run one after the other, the first would time out.
      let startA!: () => void;
      let startB!: () => void;
      const aStarted = new Promise<void>((resolve) => (startA = resolve));
      const bStarted = new Promise<void>((resolve) => (startB = resolve));
      const get = await start({
        timeoutMs: 1_000,
        checks: [
          { name: 'a', check: () => (startA(), bStarted) },
          { name: 'b', check: () => (startB(), aStarted) },
        ],
      });

      expect(await get('/health/ready')).toMatchObject({ status: 200 });
    });
  });

  describe('registration', () => {
    @Injectable()
    class Clock {
      now(): number {
        return 1;
      }
    }

    @Injectable()
    class ClockCheck implements ReadinessCheck {
      readonly name = 'clock';
      constructor(private readonly clock: Clock) {}
      check(): Promise<void> {
        return this.clock.now() > 0 ? Promise.resolve() : Promise.reject(new Error('clock stopped'));
      }
    }

    const BROKER_CHECK = Symbol('BROKER_CHECK');

    @Module({
      providers: [Clock, { provide: BROKER_CHECK, useValue: failing('broker', 'no leader') }],
      exports: [Clock, BROKER_CHECK],
    })
    class InfrastructureModule {}

    it('constructs check classes with their dependencies and picks up exported check providers', async () => {
      const get = await start({
        imports: [InfrastructureModule],
        checks: [ClockCheck, passing('static')],
        inject: [BROKER_CHECK],
      });

      expect(await get('/health/ready')).toMatchObject({
        status: 503,
        body: {
          info: { clock: { status: 'up' }, static: { status: 'up' } },
          error: { broker: { status: 'down', message: 'no leader' } },
        },
      });
    });

    it('refuses two checks with the same name', async () => {
      await expect(
        Test.createTestingModule({
          imports: [HealthModule.forRoot({ checks: [passing('database'), passing('database')] })],
        }).compile(),
      ).rejects.toThrow('duplicate readiness check name "database"');
    });

    it('refuses a non-positive timeout', () => {
      expect(() => HealthModule.forRoot({ timeoutMs: 0 })).toThrow(TypeError);
    });
  });
});
