/** Per test process: keep the Temporal SDK's own logging to warnings and errors. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
