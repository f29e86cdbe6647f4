// Outbound calls the dialplan hands to `Stasis(<app>,outbound,<campaign>)`: the daemon picks a
// rotated caller ID for the dialled number (the channel's dialplan extension), sets
// CALLERID(num), and sends the call back to the dialplan (POST /channels/{id}/continue), which
// dials it. The dialplan reads CAPCONDUIT_CID_STATUS: OK, FALLBACK, EXHAUSTED or ERROR.
import type { AsteriskModule, StasisStartHandler } from '../asterisk/index.ts';
import type { Logger } from '../platform/logger.ts';
import type { CallerIdService } from './service.ts';

export const CID_STATUS_VAR = 'CAPCONDUIT_CID_STATUS';

export class OutboundHandler {
  handled = 0;
  constructor(
    private asterisk: AsteriskModule,
    private service: CallerIdService,
    private log: Logger,
  ) {}

  readonly onStasisStart: StasisStartHandler = (nodeId, ev) => {
    void this.handle(nodeId, ev).catch((err: unknown) =>
      this.log.error({ err, channel: ev.channel.id }, 'outbound caller-ID handler failed'),
    );
  };

  private async handle(nodeId: string, ev: Parameters<StasisStartHandler>[1]): Promise<void> {
    const ari = this.asterisk.nodes.get(nodeId)?.ari;
    if (!ari) return;
    const ch = ev.channel;
    const campaign = ev.args?.[1] ?? '';
    const to = ch.dialplan?.exten ?? '';
    let status = 'ERROR';
    let number: string | null = null;
    try {
      const r = await this.service.next({ pool: campaign, to, agent: null });
      if (r.kind === 'picked') [status, number] = ['OK', r.number];
      else if (r.kind === 'fallback') [status, number] = ['FALLBACK', r.number];
      else status = r.kind === 'exhausted' ? 'EXHAUSTED' : 'ERROR';
      if (r.kind === 'unknown_pool')
        this.log.warn({ campaign }, 'outbound call for an unknown caller-ID campaign');
    } catch (err) {
      this.log.error({ err: (err as Error).message, campaign }, 'caller-ID pick failed for an outbound call');
    }
    try {
      if (number) await ari.channels.setVariable(ch.id, 'CALLERID(num)', number);
      await ari.channels.setVariable(ch.id, CID_STATUS_VAR, status);
    } finally {
      // Whatever happened, the call goes back to the dialplan: a caller ID problem must not hold it.
      await ari.channels.continueInDialplan(ch.id);
      this.handled++;
    }
    this.log.debug({ channel: ch.id, campaign, to, number, status }, 'outbound caller ID set');
  }
}
