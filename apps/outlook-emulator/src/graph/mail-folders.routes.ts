import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MailboxStore } from '../store/mailbox-store';
import { folderView } from '../store/message-view';
import type { FolderRecord } from '../store/model';
import { folderParam, jsonBody } from './graph-context';
import { GraphError } from './graph-error';
import type { GraphContext, GraphResponse } from './graph-router';
import { GraphRouter } from './graph-router';
import { linkWith, odataContext, parseIntParam } from './odata';

const WRITE = ['Mail.ReadWrite'];

/** folders: the top level, childFolders (nesting), one folder, creating folders, and folder delta */
@Injectable()
export class MailFoldersRoutes implements OnModuleInit {
  constructor(
    private readonly router: GraphRouter,
    private readonly store: MailboxStore,
  ) {}

  onModuleInit(): void {
    const r = this.router;
    r.add('GET', 'me/mailFolders', (ctx) =>
      this.page(
        ctx,
        this.store.allFolders(ctx.mailbox).filter((f) => f.parent === ctx.mailbox.root),
        `${ctx.userPrefix}/mailFolders`,
      ),
    );
    r.add('GET', 'me/mailFolders/delta', (ctx) => this.delta(ctx));
    r.add('GET', 'me/mailFolders/:folder', (ctx) => ({
      status: 200,
      body: {
        '@odata.context': odataContext(ctx, 'users/mailFolders/$entity'),
        ...folderView(folderParam(this.store, ctx)),
      },
    }));
    r.add('GET', 'me/mailFolders/:folder/childFolders', (ctx) => {
      const folder = folderParam(this.store, ctx);
      return this.page(ctx, folder.children, `${ctx.userPrefix}/mailFolders('${folder.id}')/childFolders`);
    });
    r.add('POST', 'me/mailFolders', (ctx) => this.create(ctx, ctx.mailbox.root), { scopes: WRITE });
    r.add(
      'POST',
      'me/mailFolders/:folder/childFolders',
      (ctx) => this.create(ctx, folderParam(this.store, ctx)),
      {
        scopes: WRITE,
      },
    );
  }

  private page(ctx: GraphContext, all: FolderRecord[], path: string): GraphResponse {
    const includeHidden = ctx.req.query.get('includeHiddenFolders') === 'true';
    const visible = includeHidden ? all : all.filter((f) => !f.isHidden);
    const top = parseIntParam(ctx, '$top', 1, 1000) ?? 10;
    const skip = parseIntParam(ctx, '$skip', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const slice = visible.slice(skip, skip + top);
    const body: Record<string, unknown> = {
      '@odata.context': odataContext(ctx, 'users/mailFolders'),
      value: slice.map(folderView),
    };
    if (ctx.req.query.get('$count') === 'true') body['@odata.count'] = visible.length;
    if (skip + top < visible.length)
      body['@odata.nextLink'] = linkWith(ctx, path, { $skip: String(skip + top) });
    return { status: 200, body };
  }

  /** folder delta: every folder, depth first, then a deltaLink (the tree is small; replays are allowed) */
  private delta(ctx: GraphContext): GraphResponse {
    const folders = this.store.allFolders(ctx.mailbox).filter((f) => !f.isHidden);
    return {
      status: 200,
      body: {
        '@odata.context': odataContext(ctx, 'Collection(mailFolder)'),
        value: folders.map(folderView),
        '@odata.deltaLink': `${ctx.origin}/v1.0/${ctx.userPrefix}/mailFolders/delta?$deltatoken=${ctx.mailbox.seq.toString(36)}`,
      },
    };
  }

  private create(ctx: GraphContext, parent: FolderRecord): GraphResponse {
    const name = jsonBody(ctx).displayName;
    if (typeof name !== 'string' || !name.trim()) {
      throw new GraphError(400, 'ErrorInvalidRequest', 'The displayName of a folder is required.');
    }
    if (parent.children.some((c) => c.displayName.toLowerCase() === name.trim().toLowerCase())) {
      throw new GraphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
    }
    const folder = this.store.createFolder(parent, name.trim());
    return {
      status: 201,
      body: { '@odata.context': odataContext(ctx, 'users/mailFolders/$entity'), ...folderView(folder) },
    };
  }
}
