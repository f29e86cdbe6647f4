// Asterisk 22's ARI models (rest-api/api-docs), per resource document: each property as
// `name[!]:type[{a|b|c}]` (`!` = required; the braces list its allowable values, which may hold
// spaces), in Asterisk's order. Served in the api-docs (ari-client reads the
// events document's models to know which event fields are channels, bridges, ...). A data table.

/** One model: its properties in the grammar above, and its subtypes and discriminator when it has them. */
export interface ModelSpec {
  props: string;
  subTypes?: string[];
  discriminator?: string;
}

export const MODELS: Record<string, Record<string, ModelSpec>> = {
  asterisk: {
    BuildInfo: {
      props: 'os!:string kernel!:string options!:string machine!:string date!:string user!:string',
    },
    SystemInfo: { props: 'version!:string entity_id!:string' },
    SetId: { props: 'user!:string group!:string' },
    ConfigInfo: {
      props:
        'name!:string default_language!:string max_channels:int max_open_files:int max_load:double setid!:SetId',
    },
    StatusInfo: { props: 'startup_time!:Date last_reload_time!:Date' },
    AsteriskInfo: { props: 'build:BuildInfo system:SystemInfo config:ConfigInfo status:StatusInfo' },
    AsteriskPing: { props: 'asterisk_id!:string ping!:string timestamp!:string' },
    Module: { props: 'name!:string description!:string use_count!:int status!:string support_level!:string' },
    LogChannel: { props: 'channel!:string type!:string status!:string configuration!:string' },
    Variable: { props: 'value!:string' },
    Variables: { props: 'variables!:object' },
    ConfigTuple: { props: 'attribute!:string value!:string' },
  },
  endpoints: {
    Endpoint: {
      props:
        'technology!:string resource!:string state:string{unknown|offline|online} channel_ids!:List[string]',
    },
    TextMessage: { props: 'from!:string to!:string body!:string variables:object' },
  },
  channels: {
    Dialed: { props: '' },
    DialplanCEP: { props: 'context!:string exten!:string priority!:long app_name!:string app_data!:string' },
    CallerID: { props: 'name!:string number!:string' },
    RTPstat: {
      props:
        'txcount!:int rxcount!:int txjitter:double rxjitter:double remote_maxjitter:double remote_minjitter:double remote_normdevjitter:double remote_stdevjitter:double local_maxjitter:double local_minjitter:double local_normdevjitter:double local_stdevjitter:double txploss!:int rxploss!:int remote_maxrxploss:double remote_minrxploss:double remote_normdevrxploss:double remote_stdevrxploss:double local_maxrxploss:double local_minrxploss:double local_normdevrxploss:double local_stdevrxploss:double rtt:double maxrtt:double minrtt:double normdevrtt:double stdevrtt:double local_ssrc!:int remote_ssrc!:int txoctetcount!:int rxoctetcount!:int channel_uniqueid!:string',
    },
    Channel: {
      props:
        'id!:string protocol_id!:string name!:string state!:string{Down|Rsrved|OffHook|Dialing|Ring|Ringing|Up|Busy|Dialing Offhook|Pre-ring|Unknown} caller!:CallerID connected!:CallerID accountcode!:string dialplan!:DialplanCEP creationtime!:Date language!:string channelvars:object caller_rdnis:string tenantid:string',
    },
  },
  bridges: {
    Bridge: {
      props:
        'id!:string technology!:string bridge_type!:string{mixing|holding} bridge_class!:string creator!:string name!:string channels!:List[string] video_mode:string video_source_id:string creationtime!:Date bridgevars:object',
    },
  },
  recordings: {
    StoredRecording: { props: 'name!:string format!:string' },
    LiveRecording: {
      props:
        'name!:string format!:string target_uri!:string state!:string{queued|recording|paused|done|failed|canceled} duration:int talking_duration:int silence_duration:int cause:string',
    },
  },
  sounds: {
    FormatLangPair: { props: 'language!:string format!:string' },
    Sound: { props: 'id!:string text:string formats!:List[FormatLangPair]' },
  },
  playbacks: {
    Playback: {
      props:
        'id!:string media_uri!:string next_media_uri:string target_uri!:string language:string state!:string{queued|playing|continuing|done|failed}',
    },
  },
  deviceStates: {
    DeviceState: {
      props:
        'name!:string state!:string{UNKNOWN|NOT_INUSE|INUSE|BUSY|INVALID|UNAVAILABLE|RINGING|RINGINUSE|ONHOLD}',
    },
  },
  mailboxes: {
    Mailbox: { props: 'name!:string old_messages!:int new_messages!:int' },
  },
  events: {
    Message: {
      props: 'type!:string asterisk_id:string',
      subTypes: ['MissingParams', 'Event'],
      discriminator: 'type',
    },
    MissingParams: { props: 'params!:List[string]' },
    Event: {
      props: 'application!:string timestamp!:Date',
      subTypes: [
        'DeviceStateChanged',
        'PlaybackStarted',
        'PlaybackContinuing',
        'PlaybackFinished',
        'RecordingStarted',
        'RecordingFinished',
        'RecordingFailed',
        'ApplicationMoveFailed',
        'ApplicationRegistered',
        'ApplicationUnregistered',
        'ApplicationReplaced',
        'BridgeCreated',
        'BridgeDestroyed',
        'BridgeMerged',
        'BridgeBlindTransfer',
        'BridgeAttendedTransfer',
        'BridgeVideoSourceChanged',
        'ChannelCreated',
        'ChannelDestroyed',
        'ChannelEnteredBridge',
        'ChannelLeftBridge',
        'ChannelStateChange',
        'ChannelDtmfReceived',
        'ChannelDialplan',
        'ChannelCallerId',
        'ChannelUserevent',
        'ChannelHangupRequest',
        'ChannelVarset',
        'ChannelToneDetected',
        'ChannelTalkingStarted',
        'ChannelTalkingFinished',
        'ChannelHold',
        'ChannelUnhold',
        'ContactStatusChange',
        'EndpointStateChange',
        'Dial',
        'StasisEnd',
        'StasisStart',
        'TextMessageReceived',
        'ChannelConnectedLine',
        'PeerStatusChange',
        'ChannelTransfer',
        'RESTResponse',
        'CallBroadcast',
        'CallClaimed',
      ],
    },
    ContactInfo: {
      props:
        'uri!:string contact_status!:string{Unreachable|Reachable|Unknown|NonQualified|Removed} aor!:string roundtrip_usec:string',
    },
    Peer: { props: 'peer_status!:string cause:string address:string port:string time:string' },
    DeviceStateChanged: { props: 'device_state!:DeviceState' },
    PlaybackStarted: { props: 'playback!:Playback' },
    PlaybackContinuing: { props: 'playback!:Playback' },
    PlaybackFinished: { props: 'playback!:Playback' },
    RecordingStarted: { props: 'recording!:LiveRecording' },
    RecordingFinished: { props: 'recording!:LiveRecording' },
    RecordingFailed: { props: 'recording!:LiveRecording' },
    ApplicationMoveFailed: { props: 'channel!:Channel destination!:string args!:List[string]' },
    ApplicationRegistered: { props: '' },
    ApplicationUnregistered: { props: '' },
    ApplicationReplaced: { props: '' },
    BridgeCreated: { props: 'bridge!:Bridge' },
    BridgeDestroyed: { props: 'bridge!:Bridge' },
    BridgeMerged: { props: 'bridge!:Bridge bridge_from!:Bridge' },
    BridgeVideoSourceChanged: { props: 'bridge!:Bridge old_video_source_id:string' },
    BridgeBlindTransfer: {
      props:
        'channel!:Channel replace_channel:Channel transferee:Channel exten!:string context!:string result!:string is_external!:boolean bridge:Bridge',
    },
    BridgeAttendedTransfer: {
      props:
        'transferer_first_leg!:Channel transferer_second_leg!:Channel replace_channel:Channel transferee:Channel transfer_target:Channel result!:string is_external!:boolean transferer_first_leg_bridge:Bridge transferer_second_leg_bridge:Bridge destination_type!:string destination_bridge:string destination_application:string destination_link_first_leg:Channel destination_link_second_leg:Channel destination_threeway_channel:Channel destination_threeway_bridge:Bridge',
    },
    ChannelCreated: { props: 'channel!:Channel' },
    ChannelDestroyed: { props: 'cause!:int cause_txt!:string tech_cause:int channel!:Channel' },
    ChannelEnteredBridge: { props: 'bridge!:Bridge channel:Channel' },
    ChannelLeftBridge: { props: 'bridge!:Bridge channel!:Channel' },
    ChannelStateChange: { props: 'channel!:Channel' },
    ChannelDtmfReceived: { props: 'digit!:string duration_ms!:int channel!:Channel' },
    ChannelDialplan: { props: 'channel!:Channel dialplan_app!:string dialplan_app_data!:string' },
    ChannelCallerId: { props: 'caller_presentation!:int caller_presentation_txt!:string channel!:Channel' },
    ChannelUserevent: {
      props: 'eventname!:string channel:Channel bridge:Bridge endpoint:Endpoint userevent!:object',
    },
    ChannelHangupRequest: { props: 'cause:int tech_cause:int soft:boolean channel!:Channel' },
    ChannelVarset: { props: 'variable!:string value!:string channel:Channel' },
    ChannelHold: { props: 'channel!:Channel musicclass:string' },
    ChannelUnhold: { props: 'channel!:Channel' },
    ChannelToneDetected: { props: 'channel!:Channel' },
    ChannelTalkingStarted: { props: 'channel!:Channel' },
    ChannelTalkingFinished: { props: 'channel!:Channel duration!:int' },
    ContactStatusChange: { props: 'endpoint!:Endpoint contact_info!:ContactInfo' },
    PeerStatusChange: { props: 'endpoint!:Endpoint peer!:Peer' },
    EndpointStateChange: { props: 'endpoint!:Endpoint' },
    Dial: {
      props:
        'caller:Channel peer!:Channel forward:string forwarded:Channel dialstring:string dialstatus!:string',
    },
    StasisEnd: { props: 'channel!:Channel' },
    StasisStart: { props: 'args!:List[string] channel!:Channel replace_channel:Channel' },
    TextMessageReceived: { props: 'message!:TextMessage endpoint:Endpoint' },
    ChannelConnectedLine: { props: 'channel!:Channel' },
    ChannelTransfer: { props: 'state:string refer_to!:ReferTo referred_by!:ReferredBy' },
    ReferTo: {
      props:
        'requested_destination!:RequiredDestination destination_channel:Channel connected_channel:Channel bridge:Bridge',
    },
    ReferredBy: { props: 'source_channel!:Channel connected_channel:Channel bridge:Bridge' },
    RequiredDestination: {
      props: 'protocol_id:string destination:string additional_protocol_params:List[AdditionalParam]',
    },
    AdditionalParam: { props: 'parameter_name!:string parameter_value!:string' },
    RESTHeader: { props: 'name!:string value!:string' },
    RESTQueryStringParameter: { props: 'name!:string value!:string' },
    RESTRequest: {
      props:
        'type!:string transaction_id!:string request_id!:string method!:string uri!:string content_type:string query_strings:List[RESTQueryStringParameter] message_body:string',
    },
    RESTResponse: {
      props:
        'transaction_id!:string request_id!:string status_code!:int reason_phrase!:string uri!:string content_type:string message_body:string',
    },
    CallBroadcast: { props: 'channel!:Channel caller:string called:string' },
    CallClaimed: { props: 'channel!:Channel winner_app!:string' },
  },
  applications: {
    Application: {
      props:
        'name!:string channel_ids!:List[string] bridge_ids!:List[string] endpoint_ids!:List[string] device_names!:List[string] events_allowed!:List[object] events_disallowed!:List[object]',
    },
  },
};

/** The modules each resource document names as required (`requiresModules`). */
export const REQUIRES_MODULES: Record<string, string[]> = {
  channels: ['res_stasis_answer', 'res_stasis_playback', 'res_stasis_recording', 'res_stasis_snoop'],
  bridges: ['res_stasis_recording', 'res_stasis_playback'],
  recordings: ['res_stasis_recording'],
  playbacks: ['res_stasis_playback'],
  deviceStates: ['res_stasis_device_state'],
  mailboxes: ['res_stasis_mailbox'],
  events: ['res_http_websocket'],
};
