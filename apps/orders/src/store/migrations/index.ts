import { type MigrationClass } from '@notifications/database';
import { CreateOrdersSchema1767225600000 } from './1767225600000-create-orders-schema';
import { SeedDevContactPoints1767225600001 } from './1767225600001-seed-dev-contact-points';
import { AddTraceContext1795305600000 } from './1795305600000-add-trace-context';
import { AddOrderProgressIndex1796000000000 } from './1796000000000-add-order-progress-index';
import { AddOrderHalt1796860800000 } from './1796860800000-add-order-halt';
import { AddStatusSubscriptions1797465600000 } from './1797465600000-add-status-subscriptions';

/** Every migration, oldest first (explicit classes, never a glob). */
export const ordersMigrations: MigrationClass[] = [
  CreateOrdersSchema1767225600000,
  SeedDevContactPoints1767225600001,
  AddTraceContext1795305600000,
  AddOrderProgressIndex1796000000000,
  AddOrderHalt1796860800000,
  AddStatusSubscriptions1797465600000,
];
