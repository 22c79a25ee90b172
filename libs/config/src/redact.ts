export const REDACTED = '***';

// Matches env names (KAFKA_PASSWORD, ACS_CONNECTION_STRING) and config keys (password, connectionString, apiKey).
const SECRET_NAME = /PASSWORD|SECRET|KEY|TOKEN|CONNECTION_?STRING/i;

/** Whether a variable or property of this name holds a secret that must never be printed. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/?#\s]*@/gi;
const SECRET_PARAMETER = /\b((?:[a-z]*password|secret|[a-z]*key|token|sig|signature)=)[^;&\s]+/gi;

/**
 * Masks credentials embedded in a non-secret value, e.g. the password of
 * `postgres://user:pw@host/db` or the `AccessKey=` part of a connection string.
 */
export function maskEmbeddedSecrets(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}@`).replace(SECRET_PARAMETER, `$1${REDACTED}`);
}

// Secret values seen by loadConfig, per object of the config it returned, so that a secret that ended up under
// an innocent-looking key (`acs.endpoint` built from ACS_CONNECTION_STRING) is still recognised.
const secretValuesByNode = new WeakMap<object, ReadonlySet<string>>();

export function rememberSecretValues(node: object, values: ReadonlySet<string>): void {
  secretValuesByNode.set(node, values);
}

/**
 * A copy of `config` fit for logging: values under secret-looking keys and values that came from secret
 * variables become `***`, and credentials inside URLs and connection strings are masked.
 */
export function redactConfig(config: unknown): unknown {
  const secretValues =
    typeof config === 'object' && config !== null ? secretValuesByNode.get(config) : undefined;
  return redact(config, secretValues ?? new Set());
}

function redact(value: unknown, secretValues: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return secretValues.has(value) ? REDACTED : maskEmbeddedSecrets(value);
  if (Array.isArray(value)) return value.map((item: unknown) => redact(item, secretValues));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        isSecretName(key) && item !== undefined && item !== null ? REDACTED : redact(item, secretValues),
      ]),
    );
  }
  return value;
}
