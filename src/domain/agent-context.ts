/**
 * How full a coding session's conversation is, as a model turn reports it to the session
 * workflow, and when the workflow has it condensed (the `condenseConversation` activity).
 */

/** The share of the model's context window past which the conversation is condensed. */
export const CONDENSE_AT = 0.7;

/** The conversation after a model turn, in tokens, against the coder model's context window. */
export interface ContextFill {
  tokens: number;
  window: number;
}

/** Whether a conversation this full is to be condensed before the next turn. */
export function needsCondensing(fill: ContextFill): boolean {
  return fill.tokens > fill.window * CONDENSE_AT;
}
