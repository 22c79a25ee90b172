import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ManagementEndpoint } from '@notifications/observability';
import { CONSOLE_CSS, CONSOLE_HTML } from './console.page';

/**
 * Only this origin's files run, nothing inline, no framing, no form posts, no plugins; data calls go to this
 * origin only. The shell holds no data, so a strict policy costs nothing and contains a bug in the script that
 * would otherwise let a stored string (an error message, a senders reference) run as code.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// `tsc --build` compiles src/ops/console/ (its own tsconfig: DOM types, ES modules) to dist/console/. Run from
// dist (npm start, the images) this controller is dist/ops/; run from source (Jest) it is src/ops/, and the
// script is the last build's.
/** Served outside the API's global prefix: `/console` is the address an operator types. */
export const CONSOLE_PATHS = ['console', 'console/console.css', 'console/console.js'];

const SCRIPT_CANDIDATES = [
  join(__dirname, '..', 'console', 'console.js'),
  join(__dirname, '..', '..', 'dist', 'console', 'console.js'),
];

/**
 * The operator console (`/console` on the management listener): a static shell, its styles and its script. They
 * hold no data, so they are served without a token (a browser cannot send one when it loads a page); every data
 * call the script makes carries the operator's bearer token. See apps/orders/README.md "Operator console".
 */
@ManagementEndpoint({ operatorCredential: false })
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private script: Promise<string> | undefined;

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CONSOLE_CSP)
  @Header('Cache-Control', 'no-store')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Referrer-Policy', 'no-referrer')
  page(): string {
    return CONSOLE_HTML;
  }

  @Get('console.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @Header('X-Content-Type-Options', 'nosniff')
  styles(): string {
    return CONSOLE_CSS;
  }

  @Get('console.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @Header('X-Content-Type-Options', 'nosniff')
  async code(): Promise<string> {
    this.script ??= readFirst(SCRIPT_CANDIDATES);
    try {
      return await this.script;
    } catch {
      this.script = undefined;
      throw new ServiceUnavailableException('The console script is not built: run `npx nx build orders`.');
    }
  }
}

async function readFirst(paths: readonly string[]): Promise<string> {
  for (const path of paths) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      // Try the next place.
    }
  }
  throw new Error(`none of ${paths.join(', ')}`);
}
