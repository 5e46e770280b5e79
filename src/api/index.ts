/** The HTTP API and web console: build or start the server, or start it beside a stack. */
export { buildApiServer, startApiServer, CONSOLE_DIR, type ApiDeps, type RunningApi } from './server';
export { startApiForStack, type ApiForStackOptions } from './launch';
export { apiConfigFromEnv, isLoopbackHost, DEFAULT_API_HOST, DEFAULT_API_PORT, type ApiConfig, type ApiAuthConfig, type ApiToken } from './config';
export { problemFor, HttpProblem, PROBLEM_CONTENT_TYPE, type Problem, type FieldError } from './problems';
export type { TaskEvent } from './task-events';
