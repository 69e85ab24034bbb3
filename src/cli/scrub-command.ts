import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { openEmbeddedStore } from '../store/open.js';
import { scrub, type ScrubReport } from '../store/scrub.js';

/** Exit status when damage was found, so that a scheduled scrub can alert. */
const EXIT_DAMAGED = 2;

function summary(r: ScrubReport): string {
  const lines = [
    `scrubbed ${r.objects} objects (${r.bytes} bytes): ${r.verified} verified, ${r.unverifiable} without a recorded checksum, `
      + `${r.changed} changed while checked, ${r.damaged.length} damaged and quarantined, ${r.alreadyQuarantined.length} quarantined earlier`,
    ...r.damaged.map((d) => `damaged\t${d.bucket}\t${d.key}\t${d.reason}`),
    ...r.alreadyQuarantined.map((d) => `quarantined\t${d.bucket}\t${d.key}\t${d.reason}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `cairn admin scrub`: verify every stored object against its recorded checksum; safe while a server runs. */
export function scrubCommand(): Command {
  return new Command('scrub')
    .description('verify every stored object against the checksum recorded at write time; quarantine damaged ones (exit 2 when any)')
    .requiredOption('--data <dir>', 'data folder')
    .action(async (o: { data: string }) => {
      const store = openEmbeddedStore(o.data);
      try {
        const totals = (await store.metadata.bucketStats()).reduce((t, b) => ({ objects: t.objects + b.objects, bytes: t.bytes + b.bytes }), { objects: 0, bytes: 0 });
        // A progress bar on a terminal; a plain summary when the output is a log or a pipe.
        const bar = process.stderr.isTTY
          ? new cliProgress.SingleBar({ format: 'scrub [{bar}] {percentage}% | {objects}/{totalObjects} objects | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic)
          : undefined;
        bar?.start(Math.max(totals.bytes, 1), 0, { objects: 0, totalObjects: totals.objects });
        const report = await scrub(store, (objects, bytes) => bar?.update(Math.min(bytes, Math.max(totals.bytes, 1)), { objects }));
        bar?.stop();
        process.stdout.write(summary(report));
        if (report.damaged.length + report.alreadyQuarantined.length > 0) process.exitCode = EXIT_DAMAGED;
      } finally {
        await store.close();
      }
    });
}
