// ARI shapes as Asterisk sends them (the fields we use; others pass through untyped).
export interface AriCallerId {
  name: string;
  number: string;
}
export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller: AriCallerId;
  connected: AriCallerId;
  accountcode?: string;
  dialplan: { context: string; exten: string; priority: number; app_name?: string; app_data?: string };
  creationtime: string;
  language?: string;
  channelvars?: Record<string, string>;
}
export interface AriBridge {
  id: string;
  technology: string;
  bridge_type: string;
  bridge_class?: string;
  channels: string[];
  creationtime?: string;
}

interface Base<T extends string> {
  type: T;
  timestamp: string;
  application: string;
  asterisk_id?: string;
}

export type AriEvent =
  | (Base<'StasisStart'> & { channel: AriChannel; args: string[]; replace_channel?: AriChannel })
  | (Base<'StasisEnd'> & { channel: AriChannel })
  | (Base<'ChannelStateChange'> & { channel: AriChannel })
  | (Base<'ChannelCreated'> & { channel: AriChannel })
  | (Base<'ChannelDestroyed'> & { channel: AriChannel; cause: number; cause_txt: string })
  | (Base<'ChannelHangupRequest'> & { channel: AriChannel; cause?: number; soft?: boolean })
  | (Base<'ChannelVarset'> & { channel?: AriChannel; variable: string; value: string })
  | (Base<'Dial'> & {
      peer: AriChannel;
      caller?: AriChannel;
      forwarded?: AriChannel;
      dialstatus: string;
      dialstring?: string;
    })
  | (Base<'ChannelEnteredBridge'> & { bridge: AriBridge; channel: AriChannel })
  | (Base<'ChannelLeftBridge'> & { bridge: AriBridge; channel: AriChannel })
  | (Base<'BridgeDestroyed'> & { bridge: AriBridge })
  | Base<'ApplicationReplaced'>
  | (Base<'CallBroadcast'> & { channel: AriChannel; called?: string; caller?: string })
  | (Base<'CallClaimed'> & { channel: AriChannel; winner_app?: string });

/** Any event, including types we do not model: never dropped, just untyped. */
export type AnyAriEvent = AriEvent | (Base<string> & Record<string, unknown>);

/** The channel an event is about, if any (Dial events are about their peer). */
export function eventChannel(ev: AnyAriEvent): AriChannel | undefined {
  const e = ev as { channel?: AriChannel; peer?: AriChannel };
  return ev.type === 'Dial' ? e.peer : e.channel;
}
