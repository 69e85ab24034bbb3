import { Command } from 'commander';
import { openEmbeddedStore } from '../store/open.js';
import type { Metadata } from '../store/types.js';
import { newAccessKeyId, newSecretKey } from './credentials.js';
import { scrubCommand } from './scrub-command.js';

/** Runs one admin action against the data folder; safe while a server runs on it (SQLite WAL). */
async function withMetadata(data: string, action: (m: Metadata) => Promise<void>): Promise<void> {
  const store = openEmbeddedStore(data);
  try {
    await action(store.metadata);
  } finally {
    await store.close();
  }
}

function fail(message: string): never {
  process.stderr.write(`cairn: ${message}\n`);
  process.exit(1);
}

export function adminCommand(): Command {
  const admin = new Command('admin').description('manage accounts and keys in a data folder');
  const account = admin.command('account').description('accounts: canonical id, display name, e-mail');

  account.command('create')
    .description('create an account and its first access key')
    .requiredOption('--data <dir>', 'data folder')
    .requiredOption('--id <id>', 'canonical user id')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--email <email>', 'e-mail address')
    .option('--access-key <id>', 'access key id (generated when absent)')
    .option('--secret-key <secret>', 'secret key (generated when absent)')
    .action(async (o: { data: string; id: string; name: string; email: string; accessKey?: string; secretKey?: string }) => {
      await withMetadata(o.data, async (m) => {
        if (await m.getAccount(o.id)) fail(`account ${o.id} exists`);
        if (await m.getAccountByEmail(o.email)) fail(`an account with e-mail ${o.email} exists`);
        const accessKeyId = o.accessKey ?? newAccessKeyId();
        const secretKey = o.secretKey ?? newSecretKey();
        if (await m.getAccessKey(accessKeyId)) fail(`access key ${accessKeyId} exists`);
        await m.createAccount({ id: o.id, displayName: o.name, email: o.email, createdAt: new Date() });
        await m.addAccessKey({ accessKeyId, secretKey, accountId: o.id, createdAt: new Date() });
        process.stdout.write(`account ${o.id} created\naccess key: ${accessKeyId}\nsecret key: ${secretKey}\n`);
      });
    });

  account.command('list')
    .description('list accounts with their access key ids')
    .requiredOption('--data <dir>', 'data folder')
    .action(async (o: { data: string }) => {
      await withMetadata(o.data, async (m) => {
        for (const a of await m.listAccounts()) {
          const keys = (await m.listAccessKeys(a.id)).map((k) => k.accessKeyId).join(',');
          process.stdout.write(`${a.id}\t${a.displayName}\t${a.email}\t${keys}\n`);
        }
      });
    });

  account.command('delete')
    .description('delete an account that owns no bucket, with its keys')
    .requiredOption('--data <dir>', 'data folder')
    .requiredOption('--id <id>', 'canonical user id')
    .action(async (o: { data: string; id: string }) => {
      await withMetadata(o.data, async (m) => {
        await m.deleteAccount(o.id).catch((e: Error) => fail(e.message));
        process.stdout.write(`account ${o.id} deleted\n`);
      });
    });

  const key = admin.command('key').description('access keys');
  key.command('add')
    .description('add an access key to an account')
    .requiredOption('--data <dir>', 'data folder')
    .requiredOption('--account <id>', 'canonical user id')
    .option('--access-key <id>', 'access key id (generated when absent)')
    .option('--secret-key <secret>', 'secret key (generated when absent)')
    .action(async (o: { data: string; account: string; accessKey?: string; secretKey?: string }) => {
      await withMetadata(o.data, async (m) => {
        if (!(await m.getAccount(o.account))) fail(`no account ${o.account}`);
        const accessKeyId = o.accessKey ?? newAccessKeyId();
        const secretKey = o.secretKey ?? newSecretKey();
        if (await m.getAccessKey(accessKeyId)) fail(`access key ${accessKeyId} exists`);
        await m.addAccessKey({ accessKeyId, secretKey, accountId: o.account, createdAt: new Date() });
        process.stdout.write(`access key: ${accessKeyId}\nsecret key: ${secretKey}\n`);
      });
    });
  key.command('revoke')
    .description('revoke an access key')
    .requiredOption('--data <dir>', 'data folder')
    .requiredOption('--access-key <id>', 'access key id')
    .action(async (o: { data: string; accessKey: string }) => {
      await withMetadata(o.data, async (m) => {
        if (!(await m.revokeAccessKey(o.accessKey))) fail(`no access key ${o.accessKey}`);
        process.stdout.write(`access key ${o.accessKey} revoked\n`);
      });
    });
  admin.addCommand(scrubCommand());
  return admin;
}
