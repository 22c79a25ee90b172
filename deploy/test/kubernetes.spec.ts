import {
  appEnvSettings,
  databaseSettings,
  httpSettings,
  kafkaSettings,
  loadConfig,
  MANAGEMENT_PORT_OFFSET,
  managementListenerSettings,
  parseDurationMs,
} from '@notifications/config';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { ITriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { renderKustomization, type KubernetesObject } from '../src/kustomize';
import { schemaProblems } from '../src/manifest-schemas';
import { unknownFieldProblems } from '../src/manifest-types';
import { containerEnvironment, containerReferences, EXTERNAL_SECRETS } from '../src/pod-environment';
import { APPS, WORKSPACE_ROOT } from '../src/workspace';

const K8S = join(WORKSPACE_ROOT, 'deploy', 'k8s');
const DAY_MS = 24 * 60 * 60 * 1000;
const MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;

/** What each overlay must amount to (every directory under overlays/ must be listed here). */
const OVERLAYS = {
  test: {
    namespace: 'notifications-test',
    appEnv: 'test',
    retentionDays: 7,
    replicationFactor: 1,
    emulator: true,
  },
  production: {
    namespace: 'notifications',
    appEnv: 'production',
    retentionDays: 365,
    replicationFactor: 3,
    emulator: false,
  },
  'production-keda': {
    namespace: 'notifications',
    appEnv: 'production',
    retentionDays: 365,
    replicationFactor: 3,
    emulator: false,
  },
} as const;
type OverlayName = keyof typeof OVERLAYS;
const OVERLAY_NAMES = Object.keys(OVERLAYS) as OverlayName[];

/** The apps that run in every environment, with Kafka (the emulator is a test-only extra). */
const KAFKA_APPS = APPS.filter((app) => app.name !== 'acs-emulator');

const rendered = new Map<string, KubernetesObject[]>();
function render(overlay: OverlayName | 'base'): KubernetesObject[] {
  const directory = overlay === 'base' ? join(K8S, 'base') : join(K8S, 'overlays', overlay);
  const cached = rendered.get(directory) ?? renderKustomization(directory);
  rendered.set(directory, cached);
  return cached;
}

function ofKind<T>(objects: readonly KubernetesObject[], kind: string): T[] {
  return objects.filter((object) => object.kind === kind) as unknown as T[];
}

function deployment(objects: readonly KubernetesObject[], name: string): IDeployment {
  const found = ofKind<IDeployment>(objects, 'Deployment').find(
    (candidate) => candidate.metadata?.name === name,
  );
  if (found === undefined) throw new Error(`no Deployment ${name}`);
  return found;
}

function containers(workload: IDeployment | IJob): IContainer[] {
  const spec = workload.spec?.template.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function mainContainer(workload: IDeployment): IContainer {
  const container = workload.spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error(`${workload.metadata?.name} has no container`);
  return container;
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels?.[key] === value);
}

function probePortDeclared(container: IContainer, probe: IProbe | undefined): boolean {
  const port = probe?.httpGet?.port;
  return (container.ports ?? []).some(
    (declared) => declared.name === port || declared.containerPort === port,
  );
}

describe('Kubernetes manifests', () => {
  it('has a test for every overlay', () => {
    expect(readdirSync(join(K8S, 'overlays')).sort()).toEqual([...OVERLAY_NAMES].sort());
  });

  it('keeps secret values out of the base: no Secret objects, only references', () => {
    const base = render('base');
    expect(base.length).toBeGreaterThan(0);
    expect(base.filter((object) => object.kind === 'Secret')).toEqual([]);
    expect(base.flatMap(schemaProblems)).toEqual([]);
  });

  it('documents every Secret the manifests read (deploy/README.md)', () => {
    const readme = readFileSync(join(WORKSPACE_ROOT, 'deploy', 'README.md'), 'utf8');
    for (const [name, keys] of Object.entries(EXTERNAL_SECRETS)) {
      expect({ name, documented: readme.includes(`\`${name}\``) }).toEqual({ name, documented: true });
      for (const key of keys) {
        expect({ name, key, documented: readme.includes(`\`${key}\``) }).toEqual({
          name,
          key,
          documented: true,
        });
      }
    }
  });

  it('uses no field the Kubernetes API does not know, in any overlay', () => {
    // one TypeScript program for all overlays: building it is the slow part
    const objects = OVERLAY_NAMES.flatMap((overlay) =>
      render(overlay).map((object) => ({
        ...object,
        metadata: { ...object.metadata, name: `${overlay}:${object.metadata.name}` },
      })),
    );
    expect(unknownFieldProblems(objects)).toEqual([]);
  });

  describe.each(OVERLAY_NAMES)('overlay %s', (overlay) => {
    const expected = OVERLAYS[overlay];
    let objects: KubernetesObject[] = [];
    beforeAll(() => {
      objects = render(overlay);
    });

    it('renders with kustomize, and every object passes its Kubernetes JSON schema', () => {
      expect(objects.length).toBeGreaterThan(10);
      expect(objects.flatMap(schemaProblems)).toEqual([]);
    });

    it('puts every object into its namespace, once', () => {
      const ids = objects.map((object) => `${object.kind}/${object.metadata.name}`);
      expect(new Set(ids).size).toBe(ids.length);
      const namespace = objects.find((object) => object.kind === 'Namespace');
      expect(namespace?.metadata.name).toBe(expected.namespace);
      for (const object of objects.filter((candidate) => candidate.kind !== 'Namespace')) {
        expect({
          id: `${object.kind}/${object.metadata.name}`,
          namespace: object.metadata.namespace,
        }).toEqual({
          id: `${object.kind}/${object.metadata.name}`,
          namespace: expected.namespace,
        });
      }
    });

    it('runs each app, and the ACS emulator only in test', () => {
      const names = ofKind<IDeployment>(objects, 'Deployment').map((candidate) => candidate.metadata?.name);
      const apps = expected.emulator ? APPS : KAFKA_APPS;
      expect(names.sort()).toEqual(apps.map((app) => app.name).sort());
    });

    it('probes liveness and readiness on the apps’ health endpoints, on declared ports', () => {
      for (const workload of ofKind<IDeployment>(objects, 'Deployment')) {
        const container = mainContainer(workload);
        const id = workload.metadata?.name;
        expect({ id, live: container.livenessProbe?.httpGet?.path }).toEqual({ id, live: '/health/live' });
        expect({ id, ready: container.readinessProbe?.httpGet?.path }).toEqual({
          id,
          ready: '/health/ready',
        });
        expect({ id, start: container.startupProbe?.httpGet?.path }).toEqual({ id, start: '/health/live' });
        for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
          expect({ id, declared: probePortDeclared(container, probe) }).toEqual({ id, declared: true });
        }
        // the readiness checks are bounded at 3 s in the apps: a shorter probe timeout would cut them off
        expect(container.readinessProbe?.timeoutSeconds).toBeGreaterThan(3);
      }
    });

    it('listens where the app’s settings say, and passes the apps’ shared settings validation', () => {
      for (const app of KAFKA_APPS) {
        const workload = deployment(objects, app.name);
        const container = mainContainer(workload);
        const environment = containerEnvironment(container, objects);
        const config = loadConfig(
          z.object({
            env: appEnvSettings,
            kafka: kafkaSettings(app.name),
            http: httpSettings(app.port),
            ...(app.name === 'orders' ? { db: databaseSettings } : {}),
          }),
          environment,
        );
        expect(config.http.port).toBe(app.port);
        expect(container.ports?.map((port) => port.containerPort)).toEqual([
          app.port,
          app.port + MANAGEMENT_PORT_OFFSET,
        ]);
        expect(config.env).toBe(expected.appEnv);
        expect(config.kafka.sasl?.mechanism).toBeDefined();
        expect(config.kafka.topics.retentionMs).toBe(expected.retentionDays * DAY_MS);
        expect(config.kafka.topics.replicationFactor).toBe(expected.replicationFactor);
        // never a shared deployment's topic suffix in a real environment
        expect(config.kafka.topicSuffix).toBeUndefined();
      }
    });

    it('serves the management listener on its own port, to the cluster, through a ClusterIP Service only', () => {
      const services = ofKind<IService>(objects, 'Service');
      for (const app of KAFKA_APPS) {
        const container = mainContainer(deployment(objects, app.name));
        const environment = containerEnvironment(container, objects);
        const listener = loadConfig(managementListenerSettings, environment);
        const managementPort = app.port + MANAGEMENT_PORT_OFFSET;
        expect({ app: app.name, ...listener }).toEqual({
          app: app.name,
          port: managementPort,
          host: '0.0.0.0',
        });
        expect(container.ports).toContainEqual(
          expect.objectContaining({ name: 'management', containerPort: managementPort }),
        );
        // The operator credential comes from the documented Secret (either key; production requires one).
        expect(container.env?.map((variable) => variable.name)).toEqual(
          expect.arrayContaining(['OPERATOR_AUTH_JWT_PUBLIC_KEY', 'OPERATOR_AUTH_JWKS_URL']),
        );
        const podLabels = deployment(objects, app.name).spec?.template.metadata?.labels;
        const ofThisApp = services.filter((service) => matches(service.spec?.selector, podLabels));
        const exposing = ofThisApp.filter((service) =>
          (service.spec?.ports ?? []).some(
            (port) => port.targetPort === 'management' || port.targetPort === managementPort,
          ),
        );
        expect(exposing.map((service) => service.metadata?.name)).toEqual([`${app.name}-management`]);
        expect(exposing[0]?.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
        expect(exposing[0]?.spec?.ports?.map((port) => port.targetPort)).toEqual(['management']);
      }
      // Nothing routes the public Ingress (or any other) to a management Service or port.
      const ingresses = objects.filter((object) => object.kind === 'Ingress');
      expect(JSON.stringify(ingresses)).not.toMatch(/management|51\d\d/);
    });

    it('admits traffic to each app by NetworkPolicy: public port from the ingress controller, management from operators', () => {
      const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
      const portsOf = (ports: INetworkPolicyPort[] | undefined) => (ports ?? []).map((port) => port.port);
      const peersOf = (peers: INetworkPolicyPeer[] | undefined) => JSON.stringify(peers ?? []);
      for (const app of KAFKA_APPS) {
        const podLabels = deployment(objects, app.name).spec?.template.metadata?.labels;
        const own = policies.filter((policy) => policy.metadata?.name === app.name);
        expect(own).toHaveLength(1);
        const policy = own[0]!;
        expect(matches(policy.spec?.podSelector?.matchLabels, podLabels)).toBe(true);
        expect(policy.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
        const ingress = policy.spec?.ingress ?? [];
        // Every rule names its ports and its sources: nothing is open to all.
        for (const rule of ingress) {
          expect(portsOf(rule.ports).length).toBeGreaterThan(0);
          expect((rule.from ?? []).length).toBeGreaterThan(0);
        }
        const management = ingress.filter((rule) => portsOf(rule.ports).includes('management'));
        expect(management).toHaveLength(1);
        expect(portsOf(management[0]?.ports)).toEqual(['management']);
        expect(peersOf(management[0]?.from)).toMatch(/monitoring/);
        expect(peersOf(management[0]?.from)).toMatch(/operator-access/);
        expect(peersOf(management[0]?.from)).not.toMatch(/ingress-nginx/);
        const publicPort = ingress.filter((rule) => portsOf(rule.ports).includes('http'));
        if (app.name === 'email-sender') {
          // No public API: nothing but the kubelet (not subject to policy) reaches its public port.
          expect(publicPort).toEqual([]);
        } else {
          expect(publicPort).toHaveLength(1);
          expect(peersOf(publicPort[0]?.from)).toMatch(/ingress-nginx/);
        }
        const egressPorts = (policy.spec?.egress ?? []).flatMap((rule) => portsOf(rule.ports));
        // DNS, Kafka, HTTPS (ACS, JWKS, tenants' endpoints), and PostgreSQL for orders only.
        expect(egressPorts).toEqual(expect.arrayContaining([53, 9093, 443]));
        expect(egressPorts.includes(5432)).toBe(app.name === 'orders');
        const https = (policy.spec?.egress ?? []).find((rule) => portsOf(rule.ports).includes(443));
        expect(https?.to?.[0]?.ipBlock?.except).toEqual(
          expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']),
        );
      }
    });

    it('stops gracefully: the grace period outlasts the Kafka drain and the preStop pause', () => {
      for (const app of KAFKA_APPS) {
        const workload = deployment(objects, app.name);
        const environment = containerEnvironment(mainContainer(workload), objects);
        const drainMs = parseDurationMs(environment['KAFKA_SHUTDOWN_TIMEOUT_MS'] ?? '20s') ?? Infinity;
        const preStop = mainContainer(workload).lifecycle?.preStop?.exec?.command ?? [];
        const pauseMs = preStop[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0;
        const graceMs = (workload.spec?.template.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
        expect({ app: app.name, enough: graceMs > drainMs + pauseMs }).toEqual({
          app: app.name,
          enough: true,
        });
      }
    });

    it('bounds resources and drops privileges in every container', () => {
      const workloads = [...ofKind<IDeployment>(objects, 'Deployment'), ...ofKind<IJob>(objects, 'Job')];
      for (const workload of workloads) {
        const pod = workload.spec?.template.spec;
        expect(pod?.securityContext?.runAsNonRoot).toBe(true);
        expect(pod?.securityContext?.runAsUser).toBeGreaterThan(0);
        expect(pod?.automountServiceAccountToken).toBe(false);
        for (const container of containers(workload)) {
          const id = `${workload.metadata?.name}/${container.name}`;
          const limits = container.resources?.limits ?? {};
          const requests = container.resources?.requests ?? {};
          expect({
            id,
            cpu: requests['cpu'] !== undefined,
            memory: requests['memory'] !== undefined,
          }).toEqual({
            id,
            cpu: true,
            memory: true,
          });
          expect({ id, memory: quantityBytes(limits['memory']) <= MEMORY_LIMIT_BYTES }).toEqual({
            id,
            memory: true,
          });
          expect(limits['cpu']).toBeDefined();
          expect({ id, securityContext: container.securityContext }).toEqual({
            id,
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
          });
        }
      }
    });

    it('refers only to ConfigMaps and Secrets that exist (rendered, or documented external Secrets)', () => {
      const problems: string[] = [];
      const workloads = [...ofKind<IDeployment>(objects, 'Deployment'), ...ofKind<IJob>(objects, 'Job')];
      for (const workload of workloads) {
        for (const container of containers(workload)) {
          for (const reference of containerReferences(container)) {
            const id = `${workload.metadata?.name}/${container.name} → ${reference.kind} ${reference.name}`;
            const target = objects.find(
              (object) => object.kind === reference.kind && object.metadata.name === reference.name,
            );
            const keys =
              target !== undefined
                ? Object.keys({
                    ...((target['data'] as object | undefined) ?? {}),
                    ...((target['stringData'] as object | undefined) ?? {}),
                  })
                : reference.kind === 'Secret'
                  ? EXTERNAL_SECRETS[reference.name]
                  : undefined;
            if (keys === undefined) problems.push(`${id}: no such object`);
            else if (reference.key !== undefined && !keys.includes(reference.key)) {
              problems.push(`${id}: no key ${reference.key}`);
            }
          }
        }
      }
      for (const auth of ofKind<ITriggerAuthentication>(objects, 'TriggerAuthentication')) {
        for (const reference of auth.spec?.secretTargetRef ?? []) {
          if (!(EXTERNAL_SECRETS[reference.name] ?? []).includes(reference.key)) {
            problems.push(
              `TriggerAuthentication ${auth.metadata?.name} → ${reference.name}/${reference.key}`,
            );
          }
        }
      }
      expect(problems).toEqual([]);
    });

    it('selects the Deployments’ pods with every Service, PodDisruptionBudget and autoscaler', () => {
      const workloads = ofKind<IDeployment>(objects, 'Deployment');
      const podLabels = (name: string | undefined) =>
        workloads.find((candidate) => candidate.metadata?.name === name)?.spec?.template.metadata?.labels;
      for (const workload of workloads) {
        // a Deployment's selector picks its own pods and no other Deployment's
        const selector = workload.spec?.selector.matchLabels;
        expect(workloads.filter((other) => matches(selector, other.spec?.template.metadata?.labels))).toEqual(
          [workload],
        );
      }
      for (const service of ofKind<IService>(objects, 'Service')) {
        const targets = workloads.filter((candidate) =>
          matches(service.spec?.selector, candidate.spec?.template.metadata?.labels),
        );
        expect({ service: service.metadata?.name, targets: targets.length }).toEqual({
          service: service.metadata?.name,
          targets: 1,
        });
        const container = targets[0] === undefined ? undefined : mainContainer(targets[0]);
        for (const port of service.spec?.ports ?? []) {
          const declared = (container?.ports ?? []).some(
            (candidate) => candidate.name === port.targetPort || candidate.containerPort === port.targetPort,
          );
          expect({ service: service.metadata?.name, declared }).toEqual({
            service: service.metadata?.name,
            declared: true,
          });
        }
      }
      for (const budget of ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget')) {
        const targets = workloads.filter((candidate) =>
          matches(budget.spec?.selector?.matchLabels, candidate.spec?.template.metadata?.labels),
        );
        expect({ budget: budget.metadata?.name, targets: targets.length }).toEqual({
          budget: budget.metadata?.name,
          targets: 1,
        });
      }
      const scaled = [
        ...ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler').map((hpa) => ({
          id: `HorizontalPodAutoscaler/${hpa.metadata?.name}`,
          kind: hpa.spec?.scaleTargetRef.kind,
          target: hpa.spec?.scaleTargetRef.name,
          max: hpa.spec?.maxReplicas,
        })),
        ...ofKind<IScaledObject>(objects, 'ScaledObject').map((scaledObject) => ({
          id: `ScaledObject/${scaledObject.metadata?.name}`,
          kind: scaledObject.spec?.scaleTargetRef.kind ?? 'Deployment',
          target: scaledObject.spec?.scaleTargetRef.name,
          max: scaledObject.spec?.maxReplicaCount,
        })),
      ];
      // every Kafka app is autoscaled by exactly one autoscaler (an HPA and a ScaledObject would fight)
      expect(scaled.map((entry) => entry.target).sort()).toEqual(KAFKA_APPS.map((app) => app.name).sort());
      for (const entry of scaled) {
        expect({ id: entry.id, kind: entry.kind }).toEqual({ id: entry.id, kind: 'Deployment' });
        expect(podLabels(entry.target)).toBeDefined();
        // more consumers than partitions would sit idle
        const environment = containerEnvironment(
          mainContainer(deployment(objects, entry.target ?? '')),
          objects,
        );
        expect(entry.max).toBeLessThanOrEqual(Number(environment['KAFKA_TOPIC_PARTITIONS']));
        // autoscaled Deployments leave the replica count to the autoscaler
        expect(deployment(objects, entry.target ?? '').spec?.replicas).toBeUndefined();
      }
    });

    it('scales on consumer lag with KEDA from the target container’s own settings', () => {
      for (const scaledObject of ofKind<IScaledObject>(objects, 'ScaledObject')) {
        const container = mainContainer(deployment(objects, scaledObject.spec?.scaleTargetRef.name ?? ''));
        const environment = containerEnvironment(container, objects);
        for (const trigger of scaledObject.spec?.triggers ?? []) {
          expect(trigger.type).toBe('kafka');
          const fromEnv = trigger.metadata['bootstrapServersFromEnv'];
          expect(fromEnv !== undefined && environment[fromEnv] !== undefined).toBe(true);
          const authentication = trigger.authenticationRef?.name;
          expect(
            ofKind<ITriggerAuthentication>(objects, 'TriggerAuthentication').map(
              (auth) => auth.metadata?.name,
            ),
          ).toContain(authentication);
          // KEDA spells the mechanisms scram_sha256 / scram_sha512
          expect(trigger.metadata['sasl']).toBe(
            environment['KAFKA_SASL_MECHANISM']?.replace('scram-sha-', 'scram_sha'),
          );
        }
      }
    });

    it('migrates with the orders image before orders serves', () => {
      const jobs = ofKind<IJob>(objects, 'Job');
      expect(jobs.map((job) => job.metadata?.name)).toEqual(['orders-migrate']);
      const [job] = jobs;
      const orders = deployment(objects, 'orders');
      const jobContainer = job?.spec?.template.spec?.containers[0];
      expect(jobContainer?.image).toBe(mainContainer(orders).image);
      expect(jobContainer?.command).toEqual(['node', 'apps/orders/dist/migrate.js', 'run']);
      expect(job?.spec?.template.spec?.restartPolicy).toBe('Never');
      const waits = orders.spec?.template.spec?.initContainers?.[0];
      expect(waits?.image).toBe(mainContainer(orders).image);
      expect(waits?.command).toEqual(['node', 'apps/orders/dist/migrate.js', 'check']);
      // the Job and the app read the same database
      const jobEnvironment = containerEnvironment(jobContainer ?? { name: '' }, objects);
      expect(jobEnvironment['DATABASE_URL']).toBe(
        containerEnvironment(mainContainer(orders), objects)['DATABASE_URL'],
      );
    });

    it('uses each app’s own image, tagged', () => {
      for (const workload of ofKind<IDeployment>(objects, 'Deployment')) {
        const image = mainContainer(workload).image ?? '';
        expect(image).toMatch(new RegExp(`(^|/)${workload.metadata?.name}(:[\\w.-]+|@sha256:[0-9a-f]{64})$`));
      }
    });
  });

  it('keeps secret values and the emulator out of production', () => {
    const production = render('production');
    expect(production.filter((object) => object.kind === 'Secret')).toEqual([]);
    expect(JSON.stringify(production)).not.toContain('acs-emulator');
    // Nor its admin API, in any production overlay.
    for (const overlay of OVERLAY_NAMES.filter((name) => !OVERLAYS[name].emulator)) {
      const objects = render(overlay);
      expect({ overlay, emulator: JSON.stringify(objects).includes('acs-emulator') }).toEqual({
        overlay,
        emulator: false,
      });
      expect(JSON.stringify(objects)).not.toMatch(/\/admin/);
    }
  });
});

/** Bytes of a Kubernetes memory quantity (`256Mi`, `1G`, `1048576`); NaN when it is not one. */
function quantityBytes(quantity: string | number | undefined): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity ?? '');
  if (match?.[1] === undefined) return Number.NaN;
  const units: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(match[1]) * (match[2] === undefined ? 1 : (units[match[2]] ?? Number.NaN));
}
