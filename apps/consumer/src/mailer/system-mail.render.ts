import type { SystemMailTemplate } from '@email-core/contracts';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

interface TemplateText {
  subject: string;
  intro: string;
  outro: string;
}

const TEMPLATES: Record<SystemMailTemplate, TemplateText> = {
  'sign-in-code': {
    subject: 'Your Email Core sign-in code',
    intro: 'Enter this code to sign in to Email Core:',
    outro: 'If you did not ask to sign in, you can ignore this mail: nobody can sign in without the code.',
  },
  'verify-email': {
    subject: 'Verify your Email Core address',
    intro: 'Enter this code in Email Core to verify your address:',
    outro: 'If you did not sign up for Email Core, you can ignore this mail.',
  },
};

/** The text and HTML of a system mail. The code is six digits (checked), so nothing here needs escaping. */
export function renderSystemMail(
  template: SystemMailTemplate,
  params: { code: string; validMinutes: number },
): RenderedMail {
  if (!/^\d{6}$/.test(params.code)) throw new Error('a system mail code is 6 digits');
  const t = TEMPLATES[template];
  const validity = `The code works for ${params.validMinutes} minute${params.validMinutes === 1 ? '' : 's'}, once.`;
  const text = [t.intro, '', `    ${params.code}`, '', validity, '', t.outro, '', '-- Email Core', ''].join(
    '\n',
  );
  const html = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>' + t.subject + '</title></head>',
    '<body style="font-family:system-ui,sans-serif;color:#1f2933;line-height:1.5">',
    `<p>${t.intro}</p>`,
    `<p style="font-size:28px;font-weight:600;letter-spacing:6px;font-family:ui-monospace,monospace">${params.code}</p>`,
    `<p>${validity}</p>`,
    `<p style="color:#616e7c">${t.outro}</p>`,
    '<p style="color:#9aa5b1">Email Core</p>',
    '</body></html>',
    '',
  ].join('\n');
  return { subject: t.subject, text, html };
}
