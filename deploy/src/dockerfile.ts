/** One instruction of a Dockerfile, continuation lines joined. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** A build stage: `FROM <base> [AS <name>]` and the instructions up to the next FROM. */
export interface DockerStage {
  readonly name: string | undefined;
  /** the base as written, build arguments (declared before the first FROM) substituted */
  readonly base: string;
  readonly instructions: readonly DockerInstruction[];
}

export interface Dockerfile {
  readonly stages: readonly DockerStage[];
}

/**
 * A deliberately small Dockerfile reader: enough to check the build's essentials (stages, bases, users,
 * commands, copied paths). Handles comments, `\` continuations and `${ARG}` defaults of global build
 * arguments; heredocs are not used in this repository and not supported.
 */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: DockerInstruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (pending !== undefined && trimmed.startsWith('#')) return; // comment lines inside a continuation
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending =
      pending === undefined
        ? { text: part, line: index + 1 }
        : { ...pending, text: `${pending.text} ${part}` };
    if (continues) return;
    const match = /^(\S+)\s*(.*)$/s.exec(pending.text);
    if (match?.[1] !== undefined) {
      instructions.push({
        keyword: match[1].toUpperCase(),
        args: (match[2] ?? '').trim(),
        line: pending.line,
      });
    }
    pending = undefined;
  });

  const globalArgs = new Map<string, string>();
  const stages: { name: string | undefined; base: string; instructions: DockerInstruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [base = '', as, name] = instruction.args.replace(/^--platform=\S+\s+/, '').split(/\s+/);
      const resolvedBase = base.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced?: string, bare?: string) => {
        const key = braced ?? bare ?? '';
        return globalArgs.get(key) ?? '';
      });
      stages.push({
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        base: resolvedBase,
        instructions: [],
      });
      continue;
    }
    const current = stages.at(-1);
    if (current === undefined) {
      if (instruction.keyword === 'ARG') {
        const [key = '', value = ''] = instruction.args.split('=', 2);
        globalArgs.set(key.trim(), value.trim());
      }
      continue;
    }
    current.instructions.push(instruction);
  }
  return { stages };
}

/** The stage and the stages it is built `FROM`, nearest first (a base that is no stage ends the chain). */
export function stageChain(dockerfile: Dockerfile, name: string): DockerStage[] {
  const chain: DockerStage[] = [];
  let stage = dockerfile.stages.find((candidate) => candidate.name === name);
  while (stage !== undefined && !chain.includes(stage)) {
    chain.push(stage);
    const base = stage.base;
    stage = dockerfile.stages.find((candidate) => candidate.name === base);
  }
  return chain;
}

/** The external image a stage finally builds on. */
export function baseImage(dockerfile: Dockerfile, name: string): string | undefined {
  return stageChain(dockerfile, name).at(-1)?.base;
}

/** The last instruction with this keyword in the stage or what it inherits. */
export function effective(
  dockerfile: Dockerfile,
  name: string,
  keyword: string,
): DockerInstruction | undefined {
  for (const stage of stageChain(dockerfile, name)) {
    const found = stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Every instruction of the stage and its ancestors. */
export function inheritedInstructions(dockerfile: Dockerfile, name: string): DockerInstruction[] {
  return stageChain(dockerfile, name)
    .reverse()
    .flatMap((stage) => stage.instructions);
}

export interface CopyInstruction {
  /** the stage copied from (`--from=`), undefined for the build context */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

export function parseCopy(instruction: DockerInstruction): CopyInstruction {
  const words = instruction.args.split(/\s+/);
  const options = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const from = options.find((option) => option.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' };
}

/** The JSON array of an exec-form instruction (CMD, ENTRYPOINT, HEALTHCHECK … CMD), else undefined. */
export function execForm(args: string): string[] | undefined {
  const start = args.indexOf('[');
  if (start < 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(args.slice(start));
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}
