/** The HTTP API and web console, started beside a stack (`ado dev`); `ado api` starts it alone. */
export { startApiForStack } from './launch';
