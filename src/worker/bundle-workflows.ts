/** Build step: `node dist/worker/bundle-workflows.js dist/workflow-bundle.js` prebundles the workflow code. */
import { writeWorkflowBundle } from './workers';

const outFile = process.argv[2];
if (!outFile) {
  process.stderr.write('usage: bundle-workflows <output file>\n');
  process.exit(2);
}
writeWorkflowBundle(outFile).catch((err: unknown) => {
  process.stderr.write(`Could not bundle the workflow code: ${String(err)}\n`);
  process.exit(1);
});
