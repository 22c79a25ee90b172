import { Controller, Get, Header } from '@nestjs/common';
import { StatusTracker, type ServiceStatus } from '../lib/status/service-status';

/** `GET /status`: the app's `$status` (see ServiceStatus). Counters only, no I/O. */
@Controller('status')
export class StatusController {
  constructor(private readonly tracker: StatusTracker) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  status(): ServiceStatus {
    return this.tracker.status();
  }
}
