import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { KubernetesObject } from './kustomize';

/** A kubernetes-models class: constructed from an object, `validate()` throws when the schema rejects it. */
interface ModelClass {
  new (data: never): { validate(): void };
}

/**
 * The JSON schemas objects are checked against, by `apiVersion/kind`. They come from the npm packages
 * kubernetes-models (generated from the Kubernetes OpenAPI documents, compiled with ajv) and
 * @kubernetes-models/keda (generated from KEDA's CRDs). A kind missing here fails the check: every rendered
 * object must have a schema.
 */
const SCHEMAS: Readonly<Record<string, ModelClass>> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/** Schema problems of one object (empty when valid), each naming the object and the offending path. */
export function schemaProblems(object: KubernetesObject): string[] {
  const id = `${object.kind}/${object.metadata.name}`;
  const model = SCHEMAS[`${object.apiVersion}/${object.kind}`];
  if (model === undefined) return [`${id}: no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new model(object as never).validate();
    return [];
  } catch (error: unknown) {
    return [`${id}: ${error instanceof Error ? error.message : String(error)}`];
  }
}
