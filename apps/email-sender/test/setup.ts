import { Logger } from '@nestjs/common';

// Services log through Nest's static Logger; keep test output readable unless asked (TEST_LOGS=1).
if (!process.env['TEST_LOGS']) Logger.overrideLogger(false);
