import { Controller, Get, Header } from '@nestjs/common';
import { StatusTracker, type ServiceStatus } from '../lib/status/service-status';
import { ManagementEndpoint } from './management/management.module';

/** `GET /status`: the app's `$status` (see ServiceStatus). Counters only, no I/O. */
// Management listener, no operator token: monitoring scrapes it, and it holds aggregate counters only.
@ManagementEndpoint({ operatorCredential: false })
@Controller('status')
export class StatusController {
  constructor(private readonly tracker: StatusTracker) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  status(): ServiceStatus {
    return this.tracker.status();
  }
}
