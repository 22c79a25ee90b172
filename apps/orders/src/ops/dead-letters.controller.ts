import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiExcludeController, ApiOperation } from '@nestjs/swagger';
import {
  DeadLetterRequestError,
  type DeadLetterMessage,
  type DeadLetterTopicSummary,
  type ReplayReport,
} from '@notifications/messaging';
import { ManagementEndpoint } from '@notifications/observability';
import { z } from 'zod';
import { problem, ProblemException } from '../api/problem-details';
import { OperatorKafkaService } from './operator-kafka.service';

const showQuery = z.object({
  partition: z.coerce.number().int().min(0).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const replayRequest = z
  .object({
    /** One message: its partition and offset. Neither: every message not replayed before. */
    partition: z.number().int().min(0).optional(),
    offset: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((body) => (body.offset === undefined) === (body.partition === undefined), {
    message: 'give both partition and offset (one message) or neither (all)',
  });

/**
 * Dead letters for the operator console (management listener, operator token): what `npm run ops -- dlq list |
 * show | replay` does, on the same core in libs/messaging, so a replay from the console and one from the CLI
 * record the same replay state and neither replays what the other did.
 */
@ManagementEndpoint()
@ApiExcludeController()
@Controller('internal/dead-letters')
export class DeadLettersController {
  constructor(private readonly kafka: OperatorKafkaService) {}

  @Get()
  @ApiOperation({ summary: 'The dead-letter topics: messages on each, oldest and newest' })
  list(): Promise<DeadLetterTopicSummary[]> {
    return this.kafka.deadLetters().list();
  }

  @Get(':topic')
  @ApiOperation({
    summary: "A dead-letter topic's messages with their errors (limit per partition from offset)",
  })
  async show(@Param('topic') topic: string, @Query() query: unknown): Promise<DeadLetterMessage[]> {
    const { limit, offset, partition } = parseOr400(showQuery, query);
    this.assertDeadLetterTopic(topic);
    return asProblem(() =>
      this.kafka.deadLetters().show(topic, {
        limit,
        ...(offset === undefined ? {} : { offset }),
        ...(partition === undefined ? {} : { partition }),
      }),
    );
  }

  @Post(':topic/replay')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Replay one message (partition + offset) or all not yet replayed, to their origin',
  })
  async replay(@Param('topic') topic: string, @Body() body: unknown): Promise<ReplayReport> {
    const { partition, offset } = parseOr400(replayRequest, body ?? {});
    this.assertDeadLetterTopic(topic);
    return asProblem(() =>
      this.kafka.deadLetters().replay(topic, {
        filter: {
          ...(partition === undefined ? {} : { partition }),
          ...(offset === undefined ? {} : { offset }),
        },
        dryRun: false,
        fromBeginning: false,
      }),
    );
  }

  private assertDeadLetterTopic(topic: string): void {
    if (!this.kafka.isDeadLetterTopic(topic)) {
      throw ProblemException.notFound(`${topic} is not a dead-letter topic of this deployment.`);
    }
  }
}

function parseOr400<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ProblemException(problem(400, parsed.error.issues.map((issue) => issue.message).join('; ')));
  }
  return parsed.data;
}

async function asProblem<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof DeadLetterRequestError)) throw error;
    const status = { 'not-found': 404, invalid: 400, conflict: 409 }[error.kind];
    throw new ProblemException(problem(status, error.message));
  }
}
