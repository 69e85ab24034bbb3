import { Command, InvalidArgumentError } from 'commander';
import { adminCommand } from './admin.js';
import { runServer } from './server.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const program = new Command('cairn').description('Cairn: an S3-compatible object store');

program.command('server')
  .description('run the S3 server with embedded storage')
  .option('--data <dir>', 'data folder (metadata and objects)', './data')
  .option('--address <ip>', 'address to listen on', '127.0.0.1')
  .option('--port <n>', 'port to listen on (0 picks a free one)', port, 9000)
  .option('--region <name>', 'region this endpoint answers for', 'us-east-1')
  .option('--domain <name>', 'domain for virtual-hosted-style requests (<bucket>.<domain>); repeatable', collect, [] as string[])
  .action(async (o: { data: string; address: string; port: number; region: string; domain: string[] }) => {
    await runServer(o);
  });

program.addCommand(adminCommand());

await program.parseAsync(process.argv);
