// The channel variables our client legs carry (pure: names only, so the stray-channel rule reads them
// without loading the effects that set them).

/**
 * Channel variables every client leg is created with (list them in ari.conf `channelvars` so they
 * show in events and `GET /channels`): the call it belongs to, the Stasis app that owns that call,
 * and the caller's channel. With them an instance restarted after a crash finds the calls it left
 * in Asterisk and takes them over (reconcile.ts); Asterisk keeps an app's channels when its
 * WebSocket goes away.
 */
export const CALL_ID_VAR = 'CAPCONDUIT_CALL_ID';
export const OWNER_VAR = 'CAPCONDUIT_OWNER';
export const CALLER_VAR = 'CAPCONDUIT_CALLER';
