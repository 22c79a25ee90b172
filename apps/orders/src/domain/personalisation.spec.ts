import { personalise, personalisedEmail } from './personalisation';

describe(personalise.name, () => {
  it('replaces every placeholder, with an empty string when the value is unknown', () => {
    expect(
      personalise(
        '$recipientName$/$recipientNumber$/$recipientName$',
        { name: 'Ola', number: '01017012345' },
        false,
      ),
    ).toBe('Ola/01017012345/Ola');
    expect(personalise('Hi $recipientName$!', {}, false)).toBe('Hi !');
    expect(personalise('Costs $5', { name: 'x' }, false)).toBe('Costs $5');
  });

  it('escapes values in HTML bodies but not in subjects', () => {
    const email = personalisedEmail(
      '7b8a4f34-6f2d-4a61-9a3e-7a1c1f1f0a11',
      'a@example.com',
      {
        fromAddress: 'noreply@altinn.cloud',
        subject: 'To $recipientName$',
        body: '<p>$recipientName$</p>',
        contentType: 'Html',
      },
      { name: 'Smith & <Sons>' },
    );
    expect(email.subject).toBe('To Smith & <Sons>');
    expect(email.body).toBe('<p>Smith &amp; &lt;Sons&gt;</p>');
  });
});
