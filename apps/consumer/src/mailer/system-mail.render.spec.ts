import { renderSystemMail } from './system-mail.render';

describe('renderSystemMail', () => {
  it('renders a sign-in code as text and HTML, with its validity', () => {
    const mail = renderSystemMail('sign-in-code', { code: '042917', validMinutes: 10 });
    expect(mail.subject).toBe('Your Email Core sign-in code');
    expect(mail.subject).not.toContain('042917');
    expect(mail.text).toContain('    042917\n');
    expect(mail.text).toContain('works for 10 minutes, once');
    expect(mail.html).toContain('<!doctype html>');
    expect(mail.html).toContain('>042917</p>');
    expect(mail.html).toContain('works for 10 minutes, once');
  });

  it('renders a verification mail; one minute is singular', () => {
    const mail = renderSystemMail('verify-email', { code: '000001', validMinutes: 1 });
    expect(mail.subject).toBe('Verify your Email Core address');
    expect(mail.text).toContain('verify your address');
    expect(mail.text).toContain('works for 1 minute, once');
    expect(mail.html).toContain('000001');
  });

  it('refuses anything but a 6-digit code (nothing else could reach the HTML unescaped)', () => {
    expect(() => renderSystemMail('sign-in-code', { code: '<b>1</b>', validMinutes: 1 })).toThrow(/6 digits/);
  });
});
