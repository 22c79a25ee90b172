import type { IContainer } from 'kubernetes-models/v1/Container';
import type { KubernetesObject } from './kustomize';

/**
 * Secrets the operator creates (never rendered from this repository, so the base holds no secret values), with
 * the keys the manifests read. deploy/README.md documents each; a test checks that it does.
 */
export const EXTERNAL_SECRETS: Readonly<Record<string, readonly string[]>> = {
  'notifications-kafka': [
    'admin-username',
    'admin-password',
    'producer-username',
    'producer-password',
    'consumer-username',
    'consumer-password',
  ],
  'orders-database': ['url'],
  'orders-auth': ['jwt-public-key', 'jwks-url', 'issuer', 'audience'],
  'notifications-operator-auth': ['jwt-public-key', 'jwks-url', 'issuer', 'audience'],
  acs: ['connection-string', 'resource-id'],
  'status-poller-delivery-report': ['access-key'],
};

/** Stand-ins for secret values, shaped like the real ones so that the apps' settings parse them. */
const SECRET_SAMPLES: Readonly<Record<string, string>> = {
  url: 'postgres://orders:secret@postgres.example:5432/notifications',
  'connection-string': 'endpoint=https://example.communication.azure.com/;accesskey=c2VjcmV0',
  'access-key': 'secret',
  'resource-id':
    '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/notifications' +
    '/providers/Microsoft.Communication/communicationServices/notifications',
  'jwks-url': 'https://issuer.example/.well-known/jwks.json',
  issuer: 'https://issuer.example',
  audience: 'notifications',
};

/** A reference from a container to a ConfigMap or Secret (whole object or one key). */
export interface ConfigReference {
  readonly kind: 'ConfigMap' | 'Secret';
  readonly name: string;
  readonly key?: string;
  readonly optional: boolean;
}

export function containerReferences(container: IContainer): ConfigReference[] {
  const references: ConfigReference[] = [];
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef?.name !== undefined) {
      references.push({
        kind: 'ConfigMap',
        name: source.configMapRef.name,
        optional: source.configMapRef.optional ?? false,
      });
    }
    if (source.secretRef?.name !== undefined) {
      references.push({
        kind: 'Secret',
        name: source.secretRef.name,
        optional: source.secretRef.optional ?? false,
      });
    }
  }
  for (const variable of container.env ?? []) {
    const configMap = variable.valueFrom?.configMapKeyRef;
    if (configMap?.name !== undefined) {
      references.push({
        kind: 'ConfigMap',
        name: configMap.name,
        key: configMap.key,
        optional: configMap.optional ?? false,
      });
    }
    const secret = variable.valueFrom?.secretKeyRef;
    if (secret?.name !== undefined) {
      references.push({
        kind: 'Secret',
        name: secret.name,
        key: secret.key,
        optional: secret.optional ?? false,
      });
    }
  }
  return references;
}

/**
 * The environment a container would see, from the rendered ConfigMaps and sample secret values: what Kubernetes
 * assembles from `envFrom` and `env` (later entries win, `$(VAR)` expanded). Optional secret keys are left out,
 * as an operator may leave them out.
 */
export function containerEnvironment(
  container: IContainer,
  objects: readonly KubernetesObject[],
): Record<string, string> {
  const configMapData = (name: string): Record<string, string> => {
    const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === name);
    return (configMap?.['data'] as Record<string, string> | undefined) ?? {};
  };
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef?.name !== undefined)
      Object.assign(environment, configMapData(source.configMapRef.name));
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      environment[variable.name] = variable.value.replace(/\$\((\w+)\)/g, (text, name: string) => {
        return environment[name] ?? text;
      });
      continue;
    }
    const configMap = variable.valueFrom?.configMapKeyRef;
    if (configMap?.name !== undefined) {
      const value = configMapData(configMap.name)[configMap.key];
      if (value !== undefined) environment[variable.name] = value;
      continue;
    }
    const secret = variable.valueFrom?.secretKeyRef;
    if (secret !== undefined && secret.optional !== true) {
      environment[variable.name] = SECRET_SAMPLES[secret.key] ?? 'secret';
    }
  }
  return environment;
}
