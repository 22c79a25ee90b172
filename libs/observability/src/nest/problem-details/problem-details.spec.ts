import { problem, ProblemException, problemType } from './problem-details';

describe('problem details', () => {
  it("types every problem by its status' RFC 9110 section, about:blank for a status without one", () => {
    expect(problemType(400)).toBe('https://tools.ietf.org/html/rfc9110#section-15.5.1');
    expect(problemType(503)).toBe('https://tools.ietf.org/html/rfc9110#section-15.6.4');
    expect(problemType(418)).toBe('about:blank');
  });

  it('keeps a specific title, the validation errors and extension members beside the standard fields', () => {
    expect(
      problem(413, '6 events', { title: 'Too many events', extensions: { maxEvents: 5, type: 'ignored' } }),
    ).toEqual({
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.14',
      title: 'Too many events',
      status: 413,
      detail: '6 events',
      maxEvents: 5,
    });
    expect(ProblemException.badRequest('bad', { name: ['required'] }).problem).toEqual({
      type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
      title: 'One or more validation errors occurred.',
      status: 400,
      detail: 'bad',
      errors: { name: ['required'] },
    });
    expect(ProblemException.of(401).getStatus()).toBe(401);
    expect(ProblemException.of(401).problem.title).toBe('Unauthorized');
  });
});
