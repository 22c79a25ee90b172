import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import type { z } from 'zod';
import { DuplicateRuleIdError, type RuleView } from '../scripting/rule-book';
import { rulesSchema } from '../scripting/rule.schema';
import {
  builtInRulesSchema,
  deliveryReportSettingsSchema,
  messageQuerySchema,
  rateLimitSchema,
  resetQuerySchema,
  sendSettingsSchema,
} from './admin.schemas';
import { AdminService, type OperationView } from './admin.service';

/** Inspection and scripting API of the emulator. Development and test only: no authentication. */
@Controller('admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  index() {
    return {
      endpoints: [
        'GET    /admin/stats',
        'GET    /admin/messages?after=&since=&limit=&operationId=&recipient=',
        'GET    /admin/operations/{id}',
        'GET    /admin/duplicates',
        'POST   /admin/reset[?config=true]',
        'GET    /admin/rules',
        'POST   /admin/rules            (append one rule or an array)',
        'PUT    /admin/rules            (replace all installed rules)',
        'DELETE /admin/rules[/{id}]',
        'PUT    /admin/built-in-rules   {"enabled": bool}',
        'GET|PUT|DELETE /admin/rate-limit   {"perMinute": n}',
        'GET|PUT /admin/settings        {"operationDelayMs","pollRetryAfterSeconds","deduplicateOperationIds"}',
        'GET|PUT|DELETE /admin/delivery-reports {"webhookUrl","statusMix","delayMs"}',
      ],
    };
  }

  @Get('stats')
  stats() {
    return this.admin.stats();
  }

  @Get('messages')
  // Serialised by the repository; a string result is sent as it is (with this type instead of text/html).
  @Header('Content-Type', 'application/json; charset=utf-8')
  messages(@Query() query: unknown): string {
    return this.admin.messagesPageJson(parse(messageQuerySchema, query));
  }

  @Get('operations/:id')
  operation(@Param('id') id: string): OperationView {
    const view = this.admin.operation(id);
    if (!view) throw new NotFoundException(`unknown operation id ${id}`);
    return view;
  }

  @Get('duplicates')
  duplicates() {
    return this.admin.duplicates();
  }

  @Post('reset')
  @HttpCode(200)
  reset(@Query() query: unknown) {
    const { config = false } = parse(resetQuerySchema, query);
    this.admin.reset(config);
    return this.admin.stats();
  }

  @Get('rules')
  rules() {
    return this.admin.rules.list();
  }

  @Post('rules')
  @HttpCode(201)
  addRules(@Body() body: unknown): { rules: RuleView[] } {
    const rules = parse(rulesSchema, body);
    const added = installing(() => this.admin.rules.add(rules));
    this.admin.logChange('rules added', added);
    return { rules: added };
  }

  @Put('rules')
  replaceRules(@Body() body: unknown): { rules: RuleView[] } {
    const rules = parse(rulesSchema, body);
    const installed = installing(() => this.admin.rules.replace(rules));
    this.admin.logChange('rules replaced', installed);
    return { rules: installed };
  }

  @Delete('rules')
  @HttpCode(204)
  clearRules(): void {
    this.admin.rules.clear();
    this.admin.logChange('rules', 'cleared');
  }

  @Delete('rules/:id')
  @HttpCode(204)
  removeRule(@Param('id') id: string): void {
    if (!this.admin.rules.remove(id)) throw new NotFoundException(`no installed rule with id ${id}`);
    this.admin.logChange('rule removed', id);
  }

  @Put('built-in-rules')
  builtInRules(@Body() body: unknown) {
    const { enabled } = parse(builtInRulesSchema, body);
    this.admin.rules.setBuiltInsEnabled(enabled);
    this.admin.logChange('built-in rules enabled', enabled);
    return this.admin.rules.list().builtIns;
  }

  @Get('rate-limit')
  rateLimit() {
    return { perMinute: this.admin.rateLimiter.perMinute ?? null };
  }

  @Put('rate-limit')
  setRateLimit(@Body() body: unknown) {
    const { perMinute } = parse(rateLimitSchema, body);
    this.admin.rateLimiter.setLimit(perMinute ?? undefined);
    this.admin.logChange('rate limit per minute', perMinute);
    return this.rateLimit();
  }

  @Delete('rate-limit')
  @HttpCode(204)
  clearRateLimit(): void {
    this.admin.rateLimiter.setLimit(undefined);
    this.admin.logChange('rate limit', 'off');
  }

  @Get('settings')
  settings() {
    return this.admin.settings.view();
  }

  @Put('settings')
  updateSettings(@Body() body: unknown) {
    const updated = this.admin.settings.update(parse(sendSettingsSchema, body));
    this.admin.logChange('settings', updated);
    return updated;
  }

  @Get('delivery-reports')
  deliveryReports() {
    return { ...this.admin.deliveryReports.view(), ...this.admin.deliveryReports.counts() };
  }

  @Put('delivery-reports')
  configureDeliveryReports(@Body() body: unknown) {
    this.admin.deliveryReports.configure(parse(deliveryReportSettingsSchema, body));
    return this.deliveryReports();
  }

  @Delete('delivery-reports')
  @HttpCode(204)
  disableDeliveryReports(): void {
    this.admin.deliveryReports.configure({ webhookUrl: null });
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new BadRequestException({
    statusCode: 400,
    message: 'Invalid request',
    issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}

function installing(install: () => RuleView[]): RuleView[] {
  try {
    return install();
  } catch (error) {
    if (error instanceof DuplicateRuleIdError) throw new ConflictException(error.message);
    throw error;
  }
}
