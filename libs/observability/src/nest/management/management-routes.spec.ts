import { Controller, Delete, Get, Post } from '@nestjs/common';
import { managementRoutes } from './management-routes';
import { ManagementEndpoint } from './management.module';

@ManagementEndpoint()
@Controller('internal/rate-limit')
class WholeController {
  @Get()
  show(): string {
    return 'show';
  }

  @Delete()
  clear(): string {
    return 'clear';
  }
}

@Controller('mixed')
class MixedController {
  @Get('public')
  open(): string {
    return 'open';
  }

  @ManagementEndpoint()
  @Post('trigger')
  trigger(): string {
    return 'trigger';
  }
}

describe(managementRoutes.name, () => {
  it('lists the management routes of the controllers, with the global prefix', () => {
    expect(managementRoutes([WholeController, MixedController], 'api/v1')).toEqual([
      'DELETE /api/v1/internal/rate-limit',
      'GET /api/v1/internal/rate-limit',
      'POST /api/v1/mixed/trigger',
    ]);
  });
});
