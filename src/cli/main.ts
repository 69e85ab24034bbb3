import { Command, Option } from 'commander';
import { adminCommand } from './admin.js';
import { resolveServerConfig, serverOptions } from './config.js';
import { exitOnListenError, ListenError, runServer } from './server.js';

const program = new Command('cairn').description('Cairn: an S3-compatible object store');

const server = program.command('server')
  .description('run the S3 server with embedded storage (settings: flags > environment > --config file > defaults)');
for (const o of serverOptions()) {
  const option = new Option(o.flags, o.description);
  if (o.repeatable) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  server.addOption(option);
}
server.action(async (flags: Record<string, string | string[] | undefined>) => {
  let config;
  try {
    config = resolveServerConfig(flags, process.env);
  } catch (err) {
    process.stderr.write(`cairn server: ${(err as Error).message}\n`);
    process.exit(2);
  }
  await runServer(config).catch((err: unknown) => {
    if (err instanceof ListenError) exitOnListenError(err);
    throw err;
  });
});

program.addCommand(adminCommand());

await program.parseAsync(process.argv);
