import { join } from 'node:path';
import ts from 'typescript';
import type { KubernetesObject } from './kustomize';

/** The TypeScript declaration of each kind's object (same packages as the JSON schemas, see manifest-schemas). */
const TYPES: Readonly<Record<string, { module: string; type: string }>> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Namespace': { module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'batch/v1/Job': { module: 'kubernetes-models/batch/v1/Job', type: 'IJob' },
  'networking.k8s.io/v1/NetworkPolicy': {
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    type: 'INetworkPolicy',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'keda.sh/v1alpha1/ScaledObject': {
    module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
    type: 'IScaledObject',
  },
  'keda.sh/v1alpha1/TriggerAuthentication': {
    module: '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication',
    type: 'ITriggerAuthentication',
  },
};

/**
 * Strict field check, the part JSON schema validation leaves out: the Kubernetes schemas allow unknown
 * properties (the API server drops them silently, so a misspelt `readinessProbes` would deploy without a
 * readiness probe). Each object becomes an object literal typed with its kubernetes-models interface, and
 * TypeScript's excess-property and type checks report every field that is not in the API.
 */
export function unknownFieldProblems(objects: readonly KubernetesObject[]): string[] {
  const imports = new Set<string>();
  const lines: string[] = [];
  const problems: string[] = [];
  const lineOwners: string[] = [];
  for (const object of objects) {
    const declaration = TYPES[`${object.apiVersion}/${object.kind}`];
    if (declaration === undefined) {
      problems.push(
        `${object.kind}/${object.metadata.name}: no type for ${object.apiVersion} ${object.kind}`,
      );
      continue;
    }
    imports.add(`import type { ${declaration.type} } from '${declaration.module}';`);
    lineOwners.push(`${object.kind}/${object.metadata.name}`);
    lines.push(`export const o${lines.length}: ${declaration.type} = ${JSON.stringify(object)};`);
  }
  const header = [...imports];
  // An ES module beside the project, so that module resolution finds the packages and their `import` exports.
  const fileName = join(__dirname, '..', '__rendered-manifests__.mts');
  const text = [...header, ...lines].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es5.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName ? ts.createSourceFile(name, text, language) : readSourceFile(name, language, ...rest);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    const line =
      diagnostic.file?.fileName === fileName && diagnostic.start !== undefined
        ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line
        : undefined;
    const owner = line === undefined ? undefined : lineOwners[line - header.length];
    problems.push(`${owner ?? diagnostic.file?.fileName ?? 'declarations'}: ${message}`);
  }
  return problems;
}
