import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MANAGEMENT_ENDPOINT } from './management.module';

function joinPath(...parts: readonly string[]): string {
  const path = parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment !== '')
    .join('/');
  return `/${path}`;
}

function pathsOf(target: object): string[] {
  const value: unknown = Reflect.getMetadata(PATH_METADATA, target);
  if (Array.isArray(value)) return value.map(String);
  return [typeof value === 'string' ? value : ''];
}

/**
 * Every route (`GET /internal/status`) of the given controllers that the management listener serves (marked
 * `@ManagementEndpoint()` on the class or the method), with the app's global prefix, as Nest registers them.
 * For docs checks: a README must list each of its app's management routes.
 */
export function managementRoutes(controllers: readonly Type[], globalPrefix = ''): string[] {
  const routes: string[] = [];
  for (const controller of controllers) {
    const onClass = Reflect.getMetadata(MANAGEMENT_ENDPOINT, controller) !== undefined;
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const method: unknown = Reflect.getMetadata(METHOD_METADATA, handler);
      if (typeof method !== 'number') continue;
      if (!onClass && Reflect.getMetadata(MANAGEMENT_ENDPOINT, handler) === undefined) continue;
      for (const base of pathsOf(controller)) {
        for (const path of pathsOf(handler)) {
          routes.push(`${RequestMethod[method]} ${joinPath(globalPrefix, base, path)}`);
        }
      }
    }
  }
  return routes.sort();
}
