import { z } from 'zod';
import { ConfigError, type ConfigProblem } from './config.error';
import { REQUIRED } from './env-schemas';
import { isSecretName, maskEmbeddedSecrets, rememberSecretValues } from './redact';

export type Env = Readonly<Record<string, string | undefined>>;

/** A setting group: reads the whole environment, yields a typed settings object. */
export type SettingGroup<T> = z.ZodType<T>;

const groups = new WeakSet<z.ZodType>();

/**
 * Marks a schema as a setting group: a schema keyed by environment variable names (usually a `z.object` with a
 * `.transform` to a nested shape) that `loadConfig` feeds the whole environment wherever it appears as a
 * property of the app's `z.object`. Mark the final schema (after `.transform`/`.superRefine`); wrapping it
 * again (`.optional()`, `.default()`) yields an unmarked schema.
 */
export function envGroup<S extends z.ZodType>(schema: S): S {
  groups.add(schema);
  return schema;
}

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Parses the environment once into a typed, deeply frozen config.
 *
 * `schema` is either a setting group or a `z.object` whose properties are setting groups (lower-case keys,
 * fed the whole environment), nested plain `z.object`s (same rules, recursively) or single settings keyed by
 * their variable name (`LOG_LEVEL: envEnum([...])`). Blank variables count as unset.
 *
 * @throws ConfigError listing every bad variable at once; values of secret variables are never printed.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<S>> {
  const cleanEnv = withoutBlanks(env);
  const result = schema.safeParse(inputFor(schema, cleanEnv));
  if (!result.success) throw new ConfigError(toProblems(result.error.issues, cleanEnv));
  const secretValues = new Set(
    Object.entries(cleanEnv).flatMap(([name, value]) =>
      isSecretName(name) && value !== undefined ? [value] : [],
    ),
  );
  return deepFreeze(result.data as z.infer<S>, secretValues);
}

function withoutBlanks(env: Record<string, string | undefined>): Env {
  return Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
}

function inputFor(schema: z.ZodType, env: Env): unknown {
  if (!groups.has(schema) && schema instanceof z.ZodObject) return objectInput(schema, env, []);
  return env;
}

function objectInput(schema: z.ZodObject, env: Env, path: readonly string[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    if (groups.has(field)) input[key] = env;
    else if (field instanceof z.ZodObject) input[key] = objectInput(field, env, [...path, key]);
    else if (ENV_NAME.test(key)) input[key] = env[key];
    else {
      // Without this, a group wrapped after envGroup() would silently read env["kafka"] (undefined).
      throw new TypeError(
        `loadConfig: "${[...path, key].join('.')}" is neither an environment variable name (UPPER_SNAKE_CASE) ` +
          'nor a setting group (envGroup) nor a z.object',
      );
    }
  }
  return input;
}

function toProblems(issues: readonly z.core.$ZodIssue[], env: Env): ConfigProblem[] {
  return issues.map((issue) => {
    const variable = issue.path.find(
      (segment): segment is string => typeof segment === 'string' && ENV_NAME.test(segment),
    );
    if (variable === undefined) {
      return { variable: issue.path.map(String).join('.') || '(config)', message: issue.message };
    }
    const raw = env[variable];
    if (raw === undefined) {
      return { variable, message: issue.code === 'invalid_type' ? REQUIRED : issue.message };
    }
    if (isSecretName(variable)) return { variable, message: issue.message };
    return {
      variable,
      message: `${issue.message}, got ${JSON.stringify(shorten(maskEmbeddedSecrets(raw)))}`,
    };
  });
}

function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function deepFreeze<T>(value: T, secretValues: ReadonlySet<string>): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item, secretValues);
    rememberSecretValues(value, secretValues);
    Object.freeze(value);
  }
  return value;
}
