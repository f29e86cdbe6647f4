// Dial() in the dialplan, as apps/app_dial.c runs it for one PJSIP destination: the outcome comes
// from the endpoint's configured behaviour (the callee is not a channel of its own in the
// simulator), and the caller's channel variables are set as app_dial sets them, in its order:
//
// - first every dial variable emptied (DIALSTATUS, DIALEDPEERNUMBER, DIALEDPEERNAME, ANSWEREDTIME,
//   ANSWEREDTIME_MS, DIALEDTIME, DIALEDTIME_MS, RINGTIME, RINGTIME_MS, PROGRESSTIME,
//   PROGRESSTIME_MS): set to "", so each is a VarSet with an empty value;
// - when the callee rings, RINGTIME and RINGTIME_MS (from the callee's creation);
// - on the answer, DIALSTATUS=ANSWER, DIALEDPEERNAME (the callee channel's name) and
//   DIALEDPEERNUMBER (what followed `PJSIP/`), then the caller is answered;
// - when the bridged call ends (end_bridge_callback), ANSWEREDTIME and DIALEDTIME with their _MS
//   variants (the caller's time since its answer and since its creation), then DIALSTATUS once more;
// - a call that is not answered sets only the final DIALSTATUS: CHANUNAVAIL, BUSY, CONGESTION,
//   NOANSWER, or CANCEL when the caller hangs up first.
// After a bridged call the caller is hung up (Dial returns -1: no `g` option is modelled).
import type { SimChannel, SimModel } from './model.ts';

const EMPTIED = [
  'DIALSTATUS',
  'DIALEDPEERNUMBER',
  'DIALEDPEERNAME',
  'ANSWEREDTIME',
  'ANSWEREDTIME_MS',
  'DIALEDTIME',
  'DIALEDTIME_MS',
  'RINGTIME',
  'RINGTIME_MS',
  'PROGRESSTIME',
  'PROGRESSTIME_MS',
];

/** set_duration_var: whole seconds as `<base>`, milliseconds as `<base>_MS`. */
function duration(model: SimModel, c: SimChannel, base: string, ms: number): void {
  const v = Math.max(0, Math.floor(ms));
  model.setVar(c, base, String(Math.floor(v / 1000)));
  model.setVar(c, `${base}_MS`, String(v));
}

/**
 * Runs Dial(<data>) on `c`. Resolves `true` when the dialplan goes on after it (the dial failed),
 * `false` when the caller is gone or stays connected (its dialplan run is over).
 */
export async function dialApp(
  model: SimModel,
  c: SimChannel,
  data: string,
  sleep: (ms: number) => Promise<void>,
): Promise<boolean> {
  for (const v of EMPTIED) model.setVar(c, v, '');
  const [target, timeout] = data.split(',');
  // PJSIP/<endpoint> or PJSIP/<number>@<endpoint> (a number sent through a trunk endpoint).
  const m = /^PJSIP\/(([^@&,]+)(?:@([^&,]+))?)/i.exec(target ?? '');
  const name = m?.[3] ?? m?.[2];
  // A configured behaviour, else a realtime endpoint that can be reached answers.
  const b = name ? (model.endpoints.get(name) ?? ((await model.realtime(name)) ? {} : undefined)) : undefined;
  const result = b ? (b.result ?? 'answer') : 'unavailable';
  // No channel could be requested: nothing rang, nothing to cancel.
  if (result === 'unavailable') {
    model.setVar(c, 'DIALSTATUS', 'CHANUNAVAIL');
    return true;
  }
  // The callee channel app_dial requested (it takes a name, and its counter, as in Asterisk).
  const peerName = model.nextName(`PJSIP/${name}`);
  const number = m![1]!;
  const created = Date.now();
  let status = 'CANCEL';
  let answered = false;
  // The caller hanging up ends the dial (CANCEL) or the bridged call: app_dial finishes on it.
  const end = () => {
    if (answered) {
      duration(model, c, 'ANSWEREDTIME', c.upAt === undefined ? 0 : Date.now() - c.upAt);
      duration(model, c, 'DIALEDTIME', Date.now() - (Date.parse(c.creationtime.replace('+0000', 'Z')) || 0));
    }
    model.setVar(c, 'DIALSTATUS', status);
  };
  c.onHangup = end;
  const ringMs = b!.answerAfterMs ?? 50;
  const limit = (Number(timeout) || 0) * 1000;
  // The endpoint rings at once (as a dialled PJSIP channel does in the simulator), then answers,
  // refuses or keeps ringing by its behaviour; the dial timeout, if any, runs from the start.
  const ringAt = Math.min(5, ringMs);
  if (!limit || ringAt < limit) {
    await sleep(ringAt);
    duration(model, c, 'RINGTIME', Date.now() - created);
  }
  if (result === 'noanswer' || (limit && ringMs > limit)) {
    // Without a timeout app_dial waits until the caller hangs up (CANCEL, set by `end`).
    if (!limit) return false;
    await sleep(limit - Math.min(ringAt, limit));
    status = 'NOANSWER';
  } else {
    await sleep(ringMs - ringAt);
    // app_dial gives the caller the callee's hangup cause.
    if (result === 'busy') {
      status = 'BUSY';
      c.hangupCause = 17;
    } else if (result === 'congestion') {
      status = 'CONGESTION';
      c.hangupCause = 34;
    } else {
      // The answered callee becomes the caller's connected line (a connected-line update).
      c.connected = { name: '', number: m?.[2] ?? '' };
      model.publish(c);
      status = 'ANSWER';
      answered = true;
      model.setVar(c, 'DIALSTATUS', status);
      model.setVar(c, 'DIALEDPEERNAME', peerName);
      model.setVar(c, 'DIALEDPEERNUMBER', number);
      model.setState(c, 'Up');
      // Connected until the caller hangs up (`end` runs then), or until the callee does.
      if (b!.hangupAfterMs === undefined) return false;
      await sleep(b!.hangupAfterMs);
      c.onHangup = undefined;
      end();
      model.hangup(c.id, 16);
      return false;
    }
  }
  c.onHangup = undefined;
  model.setVar(c, 'DIALSTATUS', status);
  return true;
}
