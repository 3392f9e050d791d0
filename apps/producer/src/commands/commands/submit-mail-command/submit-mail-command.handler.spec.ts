import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { mailCommandRequestSchema } from '@email-core/contracts';
import type {
  CommandUploadsRepository,
  CommandUploadView,
  CreateCommandResult,
  MailAccountsRepository,
  MailCommandsRepository,
  MailCommandView,
  NewMailCommand,
} from '@email-core/database';
import type { CommandChecksRepository, CommandFingerprint } from '../../command-checks.repository';
import { requestHash } from '../../command-request';
import type { MailCommandOutbox } from '../../mail-command-outbox';
import { SubmitMailCommand } from './submit-mail-command.command';
import { SubmitMailCommandHandler } from './submit-mail-command.handler';

const userId = randomUUID();
const accountId = randomUUID();
const manager = { tx: true } as unknown as EntityManager;

const view = (c: Partial<MailCommandView> = {}): MailCommandView => ({
  id: randomUUID(),
  accountId,
  action: 'markRead',
  status: 'queued',
  reasonCode: null,
  reason: null,
  draftId: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  ...c,
});

function setup(
  opts: {
    owned?: boolean;
    mirror?: string[];
    folders?: Record<string, string>;
    fingerprint?: CommandFingerprint | null;
    existing?: MailCommandView | null;
    create?: (c: NewMailCommand) => CreateCommandResult;
    /** the user's uploads, by id */
    uploads?: CommandUploadView[];
    /** the uploads a concurrent command takes between the check and the transaction */
    takenMeanwhile?: string[];
  } = {},
) {
  const events: string[] = [];
  const accounts = {
    findForUser: jest.fn(() => Promise.resolve(opts.owned === false ? null : { id: accountId })),
  };
  const mirror = new Set(opts.mirror ?? ['m1', 'm2', 'm3']);
  const checks = {
    fingerprint: jest.fn(() => Promise.resolve(opts.fingerprint ?? null)),
    missingMessages: jest.fn((_a: string, ids: string[]) =>
      Promise.resolve(ids.filter((i) => !mirror.has(i))),
    ),
    folderId: jest.fn((_a: string, name: string) => Promise.resolve(opts.folders?.[name] ?? null)),
  };
  const created: NewMailCommand[] = [];
  const commands = {
    create: jest.fn((m: EntityManager, c: NewMailCommand) => {
      expect(m).toBe(manager);
      events.push('create');
      created.push(c);
      return Promise.resolve(
        opts.create?.(c) ?? { created: true, command: view({ id: c.id, action: c.action }) },
      );
    }),
    findForUser: jest.fn(() => Promise.resolve(opts.existing ?? null)),
  };
  const outbox = {
    add: jest.fn((m: EntityManager) => {
      expect(m).toBe(manager);
      events.push('outbox');
      return Promise.resolve();
    }),
    committed: jest.fn(() => events.push('committed')),
  };
  const uploads = {
    findForUser: jest.fn((_u: string, ids: string[]) =>
      Promise.resolve((opts.uploads ?? []).filter((u) => ids.includes(u.id))),
    ),
    moveIntoCommand: jest.fn(
      (m: EntityManager, move: { uploadId: string; userId: string; commandId: string; position: number }) => {
        expect(m).toBe(manager);
        events.push(`move ${move.uploadId} to ${move.position}`);
        return Promise.resolve(!opts.takenMeanwhile?.includes(move.uploadId));
      },
    ),
  };
  const dataSource = {
    transaction: jest.fn(async (fn: (m: EntityManager) => Promise<unknown>) => {
      events.push('begin');
      try {
        const result = await fn(manager);
        events.push('commit');
        return result;
      } catch (err) {
        events.push('rollback');
        throw err;
      }
    }),
  };
  const handler = new SubmitMailCommandHandler(
    accounts as unknown as MailAccountsRepository,
    checks as unknown as CommandChecksRepository,
    commands as unknown as MailCommandsRepository,
    uploads as unknown as CommandUploadsRepository,
    outbox as unknown as MailCommandOutbox,
    dataSource as unknown as DataSource,
  );
  const submit = (body: Record<string, unknown>) =>
    handler.execute(new SubmitMailCommand(userId, mailCommandRequestSchema.parse({ accountId, ...body })));
  return { submit, events, created, checks, commands, outbox, uploads };
}

const sendBody = (overrides: Record<string, unknown> = {}) => ({
  action: 'send',
  body: { content: 'hi' },
  toRecipients: [{ address: 'bob@fabrikam.example' }],
  attachments: [
    { name: 'a.txt', contentType: 'text/plain', contentBase64: Buffer.from('abc').toString('base64') },
  ],
  ...overrides,
});

const refusal = async (p: Promise<unknown>) => {
  const err = (await p.catch((e: unknown) => e)) as {
    code?: string;
    getStatus?: () => number;
    getResponse?: () => { error: string };
  };
  return err.code ?? err.getResponse?.().error;
};

describe('SubmitMailCommandHandler', () => {
  it('stores the command and its outbox row in one transaction, then wakes the relay', async () => {
    const { submit, events, created, outbox } = setup();
    const result = await submit({ action: 'markRead', messageIds: ['m1', 'm2'], isRead: true });
    expect(result.created).toBe(true);
    expect(result.command.status).toBe('queued');
    expect(events).toEqual(['begin', 'create', 'outbox', 'commit', 'committed']);
    expect(created[0]).toMatchObject({
      userId,
      accountId,
      action: 'markRead',
      request: { accountId, action: 'markRead', messageIds: ['m1', 'm2'], isRead: true },
      attachments: [],
    });
    expect(outbox.add).toHaveBeenCalledWith(manager, { id: created[0].id, accountId, action: 'markRead' });
  });

  it("uses the client's id (lower-cased) and hashes the request with the attachment bytes", async () => {
    const { submit, created } = setup();
    const id = randomUUID().toUpperCase();
    const body = sendBody({ id });
    await submit(body);
    expect(created[0].id).toBe(id.toLowerCase());
    expect(created[0].requestHash).toBe(requestHash(mailCommandRequestSchema.parse({ accountId, ...body })));
    expect(created[0].attachments).toEqual([
      { name: 'a.txt', contentType: 'text/plain', content: Buffer.from('abc'), position: 0 },
    ]);
    expect(created[0].request.attachments).toEqual([{ name: 'a.txt', contentType: 'text/plain', size: 3 }]);
  });

  describe('attachments uploaded beforehand', () => {
    const upload = (name: string): CommandUploadView => ({
      id: randomUUID(),
      name,
      contentType: 'application/pdf',
      size: 2_000_000,
      received: 2_000_000,
      expiresAt: '2025-01-02T00:00:00.000Z',
    });

    it('moves each into the command at its place, in the transaction of the command and its outbox row', async () => {
      const report = upload('report.pdf');
      const { submit, created, events } = setup({ uploads: [report] });
      const inline = sendBody().attachments[0];
      await submit(sendBody({ attachments: [{ uploadId: report.id.toUpperCase() }, inline] }));
      expect(created[0].attachments).toEqual([
        { name: 'a.txt', contentType: 'text/plain', content: Buffer.from('abc'), position: 1 },
      ]);
      expect(created[0].request.attachments).toEqual([
        { name: 'report.pdf', contentType: 'application/pdf', size: 2_000_000 },
        { name: 'a.txt', contentType: 'text/plain', size: 3 },
      ]);
      expect(events).toEqual(['begin', 'create', `move ${report.id} to 0`, 'outbox', 'commit', 'committed']);
    });

    it("an unknown, expired or someone else's upload: 404 UPLOAD_NOT_FOUND, nothing stored", async () => {
      const { submit, commands, outbox } = setup({ uploads: [] });
      expect(await refusal(submit(sendBody({ attachments: [{ uploadId: randomUUID() }] })))).toBe(
        'UPLOAD_NOT_FOUND',
      );
      expect(commands.create).not.toHaveBeenCalled();
      expect(outbox.add).not.toHaveBeenCalled();
    });

    it('an upload taken by a concurrent command meanwhile: 404, and the whole transaction rolls back', async () => {
      const report = upload('report.pdf');
      const { submit, events, outbox } = setup({ uploads: [report], takenMeanwhile: [report.id] });
      expect(await refusal(submit(sendBody({ attachments: [{ uploadId: report.id }] })))).toBe(
        'UPLOAD_NOT_FOUND',
      );
      expect(events).toEqual(['begin', 'create', `move ${report.id} to 0`, 'rollback']);
      expect(outbox.committed).not.toHaveBeenCalled();
    });

    it('the same upload twice in one mail: 400 INVALID_ATTACHMENT', async () => {
      const report = upload('report.pdf');
      const { submit } = setup({ uploads: [report] });
      const twice = [{ uploadId: report.id }, { uploadId: report.id }];
      expect(await refusal(submit(sendBody({ attachments: twice })))).toBe('INVALID_ATTACHMENT');
    });
  });

  it('stores a move with the folder id the well-known name stands for', async () => {
    const { submit, created } = setup({ folders: { archive: 'AAMk-archive=' } });
    await submit({ action: 'move', messageIds: ['m1'], destinationFolderId: 'archive' });
    expect(created[0].request.destinationFolderId).toBe('AAMk-archive=');
  });

  describe('refuses before anything is written', () => {
    it.each([
      ['ACCOUNT_NOT_FOUND', { owned: false }, { action: 'delete', messageIds: ['m1'] }],
      ['MESSAGE_NOT_FOUND', {}, { action: 'delete', messageIds: ['m1', 'someone-elses'] }],
      ['MESSAGE_NOT_FOUND', {}, { action: 'reply', messageId: 'unknown' }],
      ['UNKNOWN_FOLDER', {}, { action: 'move', messageIds: ['m1'], destinationFolderId: 'nowhere' }],
      ['NO_RECIPIENTS', {}, sendBody({ toRecipients: [] })],
      ['NO_RECIPIENTS', {}, { action: 'forward', messageId: 'm1', toRecipients: [] }],
      ['INVALID_ATTACHMENT', {}, sendBody({ attachments: [{ name: 'x', contentBase64: '***' }] })],
      [
        'ATTACHMENT_TOO_LARGE',
        {},
        sendBody({
          attachments: [{ name: 'x', contentBase64: Buffer.alloc(3 * 1024 * 1024 + 1).toString('base64') }],
        }),
      ],
    ] as const)('%s', async (code, opts, body) => {
      const { submit, events } = setup(opts);
      expect(await refusal(submit(body))).toBe(code);
      expect(events).toEqual([]);
    });

    it('names the missing messages (the ids the client sent)', async () => {
      const { submit } = setup();
      const err = (await submit({
        action: 'flag',
        messageIds: ['m1', 'x', 'y'],
        flagStatus: 'flagged',
      }).catch((e: unknown) => e)) as { details: unknown };
      expect(err.details).toEqual({ messageIds: ['x', 'y'] });
    });
  });

  describe('an id seen before', () => {
    const body = { action: 'delete', messageIds: ['m1'] };
    const hash = requestHash(mailCommandRequestSchema.parse({ accountId, ...body }));

    it('same user, same request: the current state, no validation, nothing queued', async () => {
      const id = randomUUID();
      const existing = view({ id, action: 'delete', status: 'done' });
      // the message is gone from the mirror since: a retry must still get the command, not MESSAGE_NOT_FOUND
      const { submit, events, checks } = setup({
        fingerprint: { userId, requestHash: hash },
        existing,
        mirror: [],
      });
      await expect(submit({ ...body, id })).resolves.toEqual({ created: false, command: existing });
      expect(checks.missingMessages).not.toHaveBeenCalled();
      expect(events).toEqual([]);
    });

    it('another request or another user: 409 COMMAND_ID_CONFLICT', async () => {
      const id = randomUUID();
      const other = setup({ fingerprint: { userId, requestHash: 'another' } });
      expect(await refusal(other.submit({ ...body, id }))).toBe('COMMAND_ID_CONFLICT');
      const stranger = setup({ fingerprint: { userId: randomUUID(), requestHash: hash } });
      expect(await refusal(stranger.submit({ ...body, id }))).toBe('COMMAND_ID_CONFLICT');
      expect([...other.events, ...stranger.events]).toEqual([]);
    });

    it('a concurrent submit of the same id that won the insert: its state, or a conflict', async () => {
      const id = randomUUID();
      const winner = view({ id, action: 'delete' });
      const same = setup({ create: () => ({ created: false, sameRequest: true, command: winner }) });
      await expect(same.submit({ ...body, id })).resolves.toEqual({ created: false, command: winner });
      expect(same.outbox.add).not.toHaveBeenCalled();
      expect(same.outbox.committed).not.toHaveBeenCalled();
      const differs = setup({ create: () => ({ created: false, sameRequest: false, command: null }) });
      expect(await refusal(differs.submit({ ...body, id }))).toBe('COMMAND_ID_CONFLICT');
    });
  });
});
