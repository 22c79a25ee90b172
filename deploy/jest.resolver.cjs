// kubernetes-models, @kubernetes-models/* and two of their dependencies ship only ES modules whose package
// `exports` offer just an `import` condition, which Jest's CommonJS runtime does not ask for. Resolve that
// condition for these packages only (asking for it everywhere would also pick the .mjs builds of Jest's own
// dependencies); SWC then turns them into CommonJS (transformIgnorePatterns in jest.config.cjs).
const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/[^/]+|is-cidr|cidr-regex)(\/|$)/;

module.exports = (request, options) =>
  options.defaultResolver(
    request,
    ESM_ONLY.test(request) ? { ...options, conditions: [...(options.conditions ?? []), 'import'] } : options,
  );
