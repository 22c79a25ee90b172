import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthModule } from '@notifications/health';
import { DataSource } from 'typeorm';
import { CreateWidgets1700000000001, Widget } from '../test/widget.fixtures';
import { DatabaseReadinessCheck } from './database-readiness.check';
import { databaseModule } from './database.module';
import { createTestDatabase, type TestDatabase } from './testing/test-database';

describe(databaseModule.name, () => {
  let db: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'module', migrations: [CreateWidgets1700000000001] });
    const moduleRef = await Test.createTestingModule({
      imports: [
        databaseModule({ url: db.url, entities: [Widget], poolSize: 2, applicationName: 'module-test' }),
        HealthModule.forRoot({ checks: [DatabaseReadinessCheck] }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('provides a DataSource on the database, with synchronize off', async () => {
    const dataSource = app.get(DataSource);

    expect(dataSource.options).toMatchObject({ synchronize: false, migrationsRun: false });
    await dataSource.getRepository(Widget).save({ label: 'a' });
    expect(await dataSource.getRepository(Widget).count()).toBe(1);
  });

  it('lets the health module run the database readiness check', async () => {
    const response = await fetch(`${await app.getUrl()}/health/ready`);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
  });
});
