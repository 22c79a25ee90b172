import { ContractViolationError } from './contract-violation.error';

describe(ContractViolationError.name, () => {
  it('names the contract and every bad field in its message', () => {
    const error = new ContractViolationError('Email', [
      { path: 'contentType', message: 'expected one of Plain | Html, got "Markdown"' },
      { path: 'notificationId', message: 'required' },
    ]);

    expect(error.message).toBe(
      'Invalid Email message: contentType: expected one of Plain | Html, got "Markdown"; notificationId: required',
    );
    expect(error.name).toBe('ContractViolationError');
    expect(error.contract).toBe('Email');
    expect(error.issues).toHaveLength(2);
    expect(error).toBeInstanceOf(Error);
  });

  it('leaves out the path of a whole-message issue', () => {
    const error = new ContractViolationError('Email', [{ path: '', message: 'not valid JSON: oops' }]);

    expect(error.message).toBe('Invalid Email message: not valid JSON: oops');
  });

  it('keeps a long list of issues out of the message, but not out of `issues`', () => {
    const issues = Array.from({ length: 13 }, (_, i) => ({
      path: `recipients[${i}]`,
      message: 'expected object',
    }));

    const error = new ContractViolationError('NotificationOrder', issues);

    expect(error.message).toContain('recipients[9]: expected object; … and 3 more');
    expect(error.message).not.toContain('recipients[10]');
    expect(error.issues).toHaveLength(13);
  });

  it('cannot have its issues changed afterwards', () => {
    const issues = [{ path: 'a', message: 'b' }];
    const error = new ContractViolationError('X', issues);
    issues[0]!.path = 'changed';

    expect(error.issues[0]?.path).toBe('a');
    expect(Object.isFrozen(error.issues)).toBe(true);
  });

  describe(ContractViolationError.is.name, () => {
    it('recognises the error, also from another copy of the library', () => {
      const foreign = Object.assign(new Error('Invalid X message'), {
        name: 'ContractViolationError',
        contract: 'X',
        issues: [],
      });

      expect(ContractViolationError.is(new ContractViolationError('X', []))).toBe(true);
      expect(ContractViolationError.is(foreign)).toBe(true);
      expect(ContractViolationError.is(new Error('other'))).toBe(false);
      expect(ContractViolationError.is('ContractViolationError')).toBe(false);
    });
  });
});
