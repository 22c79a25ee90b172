import { type z } from 'zod';

/** Paths of every null value in a JSON document (the API omits absent properties instead). */
export function nullPaths(value: unknown, path = '$'): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => nullPaths(item, `${path}[${index}]`));
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) =>
      nullPaths(item, `${path}.${key}`),
    );
  }
  return [];
}

/** Fails with zod's explanation when the document does not have the documented shape. */
export function expectShape<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Error(`Response does not match its schema: ${JSON.stringify(result.error.issues, null, 2)}`);
  }
  expect(nullPaths(value)).toEqual([]);
  return result.data;
}
