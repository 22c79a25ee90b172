import { type NestExpressApplication } from '@nestjs/platform-express';
import { createOrdersApp } from '../src/app/orders-app';
import { HttpContactPointClient } from '../src/clients/http-contact-point.client';
import { RecipientResolver } from '../src/clients/recipient-resolver.service';
import { loadOrdersConfig } from '../src/config/orders.config';
import { CONTACT_POINT_SERVICE } from '../src/config/tokens';
import { LocalContactPointRepository } from '../src/store/local-contact-point.repository';
import { createTestResources, type OrdersTestResources } from './support/orders-test-app';

// The root module chooses the contact-point register that the feature modules' RecipientResolver asks
// (CONTACT_POINTS_SOURCE); the app is built but not started, so no consumer or listener runs.
describe('orders composition', () => {
  let resources: OrdersTestResources;

  beforeAll(async () => {
    resources = await createTestResources('composition');
  });

  afterAll(async () => {
    await resources.cleanup();
  });

  async function registerOf(settings: Record<string, string>): Promise<unknown> {
    const app: NestExpressApplication = await createOrdersApp({
      config: loadOrdersConfig({ ...resources.env, ...settings }),
      consumerGroupId: resources.consumerGroupId,
      logger: false,
    });
    try {
      expect(app.get(RecipientResolver)).toBeInstanceOf(RecipientResolver);
      return app.get(CONTACT_POINT_SERVICE);
    } finally {
      await app.close();
    }
  }

  it('asks the local table by default outside production', async () => {
    expect(await registerOf({})).toBeInstanceOf(LocalContactPointRepository);
  });

  it('asks the HTTP register when CONTACT_POINTS_SOURCE=http', async () => {
    const register = await registerOf({
      CONTACT_POINTS_SOURCE: 'http',
      CONTACT_POINTS_BASE_URL: 'http://127.0.0.1:9/profile/api/v1/',
    });
    expect(register).toBeInstanceOf(HttpContactPointClient);
  });
});
