/**
 * The failure converter of encrypted setups: error messages and stack traces move into a payload
 * (`encodedAttributes`) that the payload codec encrypts like any other. Workers and clients load
 * it by path (`failureConverterPath`) and workflow bundles include it, so it imports nothing but
 * `@temporalio/common`. Keep it free of type syntax: when tests run from sources, Node (>= 20.19)
 * requires this .ts file itself, as the JavaScript module it then is.
 */
import { DefaultFailureConverter } from '@temporalio/common';

/** Read by the SDK under this name from `failureConverterPath`. */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
