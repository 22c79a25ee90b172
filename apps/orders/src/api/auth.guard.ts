import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import { problem, ProblemException } from './problem-details';
import { type HttpRequest } from './http-types';
import { wwwAuthenticate } from '@notifications/observability';
import { AuthError, JwtVerifier, type Caller } from './jwt-verifier';

interface AuthenticatedRequest extends HttpRequest {
  caller?: Caller;
}

/**
 * Bearer JWT with the notifications scope: 401 without a valid token, 403 without the scope or an org, 503
 * when the signing keys cannot be fetched (JWKS outage).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(private readonly verifier: JwtVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    try {
      request.caller = await this.verifier.authenticate(Array.isArray(header) ? header[0] : header);
      return true;
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      const { failure } = error;
      if (failure.kind === 'unavailable') {
        // The identity provider is down, not the token wrong: retry later (RFC 9110 §15.6.4).
        throw new ProblemException(problem(503, failure.reason), {
          'Retry-After': String(failure.retryAfterSeconds),
        });
      }
      throw new ProblemException(problem(failure.kind === 'unauthenticated' ? 401 : 403, failure.reason), {
        'WWW-Authenticate': wwwAuthenticate(failure),
      });
    }
  }
}

/** The caller the guard authenticated. */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  // Unreachable behind JwtAuthGuard.
  if (caller === undefined) throw new Error('No authenticated caller: is the route guarded?');
  return caller;
});
