// res_pjsip's configuration objects (endpoint, auth, aor, transport, identify) as Asterisk 22
// prints them in AMI detail events: every field its sorcery registers, in the order Asterisk
// iterates them, each rendered from a realtime row's column as res_pjsip would after parsing it.
//
// Why this order: sorcery keeps an object type's fields in a hash container of 29 buckets keyed by
// the field name (djb2, `ast_str_hash`), and builds an object set by walking bucket 0..28, each
// bucket in registration order. The tables below are in registration order (as
// res/res_pjsip/*.c register them) and `sorceryOrder` sorts them as that walk does; a unit test
// checks the result against the field order a real Asterisk 22.10.1 sent.
//
// Field kinds: s = printed as stored (strings, numbers, enums); b = boolean printed true/false;
// y = boolean printed yes/no; Y = yes/no printed Yes/No (DTLS); list = comma list without blanks;
// codec = the allow/disallow result `(ulaw|alaw)`; cid = caller id `"Name" <num>`; prefs = codec
// negotiation preferences; o = printed only when set; h = never printed (no printer registered:
// type, disallow, the ACL pieces); f = a double printed with six decimals.
export type Kind = 's' | 'b' | 'y' | 'Y' | 'list' | 'codec' | 'cid' | 'prefs' | 'o' | 'h' | 'f';
/** [name, kind, what Asterisk prints when the column is empty] */
export type Field = readonly [string, Kind, string];

/** Asterisk's `ast_str_hash` bucket of a field name in sorcery's 29-bucket field container. */
export function sorceryBucket(name: string): number {
  let h = 5381;
  for (const c of Buffer.from(name)) h = (Math.imul(h, 33) ^ c) >>> 0;
  return (h & 0x7fffffff) % 29;
}

/** Fields in the order sorcery iterates them (bucket, then registration order). */
export function sorceryOrder(fields: readonly Field[]): Field[] {
  return fields
    .map((f, i) => ({ f, i, b: sorceryBucket(f[0]) }))
    .sort((a, b) => a.b - b.b || a.i - b.i)
    .map((x) => x.f);
}

/** `ast_to_camel_case`: dtls_ca_file -> DtlsCaFile. */
export const camel = (name: string) =>
  name
    .split('_')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

// res/res_pjsip/pjsip_configuration.c, ast_res_pjsip_initialize_configuration.
const ENDPOINT: Field[] = [
  ['type', 'h', ''],
  ['context', 's', 'default'],
  ['disallow', 'h', ''],
  ['allow', 'codec', '(nothing)'],
  ['dtmf_mode', 's', 'rfc4733'],
  ['rtp_ipv6', 'b', 'false'],
  ['rtp_symmetric', 'b', 'false'],
  ['ice_support', 'b', 'false'],
  ['use_ptime', 'b', 'false'],
  ['force_rport', 'b', 'true'],
  ['rewrite_contact', 'b', 'false'],
  ['transport', 's', ''],
  ['outbound_proxy', 's', ''],
  ['moh_suggest', 's', 'default'],
  ['100rel', 's', 'yes'],
  ['timers', 's', 'yes'],
  ['timers_min_se', 's', '90'],
  ['timers_sess_expires', 's', '1800'],
  ['auth', 'list', ''],
  ['outbound_auth', 'list', ''],
  ['aors', 's', ''],
  ['media_address', 's', ''],
  ['bind_rtp_to_media_address', 'b', 'false'],
  ['identify_by', 's', 'username,ip'],
  ['direct_media', 'b', 'true'],
  ['direct_media_method', 's', 'invite'],
  ['trust_connected_line', 'y', 'yes'],
  ['send_connected_line', 'y', 'yes'],
  ['connected_line_method', 's', 'invite'],
  ['direct_media_glare_mitigation', 's', 'none'],
  ['disable_direct_media_on_nat', 'b', 'false'],
  ['callerid', 'cid', '<unknown>'],
  ['callerid_privacy', 's', 'allowed_not_screened'],
  ['callerid_tag', 's', ''],
  ['trust_id_inbound', 'b', 'false'],
  ['trust_id_outbound', 'b', 'false'],
  ['send_pai', 'b', 'false'],
  ['send_rpid', 'b', 'false'],
  ['rpid_immediate', 'b', 'false'],
  ['send_diversion', 'b', 'true'],
  ['send_history_info', 'b', 'false'],
  ['mailboxes', 's', ''],
  ['voicemail_extension', 's', ''],
  ['aggregate_mwi', 'b', 'true'],
  ['mwi_subscribe_replaces_unsolicited', 'y', 'no'],
  ['media_encryption', 's', 'no'],
  ['use_avpf', 'b', 'false'],
  ['force_avp', 'b', 'false'],
  ['media_use_received_transport', 'b', 'false'],
  ['rtp_keepalive', 's', '0'],
  ['rtp_timeout', 's', '0'],
  ['rtp_timeout_hold', 's', '0'],
  ['rtp_port_start', 's', '0'],
  ['rtp_port_end', 's', '0'],
  ['one_touch_recording', 'b', 'false'],
  ['inband_progress', 'b', 'false'],
  ['call_group', 's', ''],
  ['pickup_group', 's', ''],
  ['named_call_group', 's', ''],
  ['named_pickup_group', 's', ''],
  ['device_state_busy_at', 's', '0'],
  ['t38_udptl', 'b', 'false'],
  ['t38_udptl_ec', 's', 'none'],
  ['t38_udptl_maxdatagram', 's', '0'],
  ['fax_detect', 'b', 'false'],
  ['fax_detect_timeout', 's', '0'],
  ['t38_udptl_nat', 'b', 'false'],
  ['t38_udptl_ipv6', 'b', 'false'],
  ['t38_bind_udptl_to_media_address', 'b', 'false'],
  ['tone_zone', 's', ''],
  ['language', 's', ''],
  ['record_on_feature', 's', 'automixmon'],
  ['record_off_feature', 's', 'automixmon'],
  ['allow_transfer', 'b', 'true'],
  ['user_eq_phone', 'b', 'false'],
  ['moh_passthrough', 'b', 'false'],
  ['sdp_owner', 's', '-'],
  ['sdp_session', 's', 'Asterisk'],
  ['tos_audio', 's', '0'],
  ['tos_video', 's', '0'],
  ['cos_audio', 's', '0'],
  ['cos_video', 's', '0'],
  ['allow_subscribe', 'b', 'true'],
  ['sub_min_expiry', 's', '0'],
  ['from_user', 's', ''],
  ['from_domain', 's', ''],
  ['mwi_from_user', 's', ''],
  ['rtp_engine', 's', 'asterisk'],
  ['dtls_verify', 'Y', 'No'],
  ['dtls_rekey', 's', '0'],
  ['dtls_auto_generate_cert', 'Y', 'No'],
  ['dtls_cert_file', 's', ''],
  ['dtls_private_key', 's', ''],
  ['dtls_cipher', 's', ''],
  ['dtls_ca_file', 's', ''],
  ['dtls_ca_path', 's', ''],
  ['dtls_setup', 's', 'active'],
  ['dtls_fingerprint', 's', 'SHA-256'],
  ['srtp_tag_32', 'b', 'false'],
  ['media_encryption_optimistic', 'b', 'false'],
  ['g726_non_standard', 'b', 'false'],
  ['redirect_method', 's', 'user'],
  ['follow_redirect_methods', 's', ''],
  ['set_var', 's', ''],
  ['message_context', 's', ''],
  ['accountcode', 's', ''],
  ['deny', 'h', ''],
  ['permit', 'h', ''],
  ['acl', 's', ''],
  ['contact_deny', 'h', ''],
  ['contact_permit', 'h', ''],
  ['contact_acl', 's', ''],
  ['subscribe_context', 's', ''],
  ['contact_user', 'o', ''],
  ['preferred_codec_only', 'b', 'false'],
  ['asymmetric_rtp_codec', 'b', 'false'],
  ['rtcp_mux', 'b', 'false'],
  ['allow_overlap', 'b', 'true'],
  ['overlap_context', 's', ''],
  ['refer_blind_progress', 'b', 'true'],
  ['notify_early_inuse_ringing', 'b', 'false'],
  ['max_audio_streams', 's', '1'],
  ['max_video_streams', 's', '1'],
  ['bundle', 'b', 'false'],
  ['webrtc', 'y', 'no'],
  ['incoming_mwi_mailbox', 's', ''],
  ['follow_early_media_fork', 'b', 'true'],
  ['accept_multiple_sdp_answers', 'b', 'false'],
  ['suppress_q850_reason_headers', 'b', 'false'],
  ['ignore_183_without_sdp', 'b', 'false'],
  ['incoming_call_offer_pref', 's', 'local'],
  ['outgoing_call_offer_pref', 's', 'remote_merge'],
  ['codec_prefs_incoming_offer', 'prefs', 'prefer:pending, operation:intersect, keep:all, transcode:allow'],
  ['codec_prefs_outgoing_offer', 'prefs', 'prefer:pending, operation:union, keep:all, transcode:allow'],
  ['codec_prefs_incoming_answer', 'prefs', 'prefer:pending, operation:intersect, keep:all, transcode:allow'],
  ['codec_prefs_outgoing_answer', 'prefs', 'prefer:pending, operation:intersect, keep:all, transcode:allow'],
  ['stir_shaken', 's', 'no'],
  ['stir_shaken_profile', 's', ''],
  ['allow_unauthenticated_options', 'b', 'false'],
  ['geoloc_incoming_call_profile', 's', ''],
  ['geoloc_outgoing_call_profile', 's', ''],
  ['security_mechanisms', 'o', ''],
  ['security_negotiation', 's', 'no'],
  ['send_aoc', 'b', 'false'],
  ['tenantid', 's', ''],
  ['suppress_moh_on_sendonly', 'b', 'false'],
];

// res/res_pjsip/config_auth.c. The digest algorithms default to the global MD5.
const AUTH: Field[] = [
  ['type', 'h', ''],
  ['username', 's', ''],
  ['password', 's', ''],
  ['refresh_token', 's', ''],
  ['oauth_clientid', 's', ''],
  ['oauth_secret', 's', ''],
  ['md5_cred', 's', ''],
  ['realm', 's', ''],
  ['nonce_lifetime', 's', '32'],
  ['auth_type', 's', 'userpass'],
  ['password_digest', 's', ''],
  ['supported_algorithms_uac', 's', 'MD5'],
  ['supported_algorithms_uas', 's', 'MD5'],
];

// res/res_pjsip/location.c. `contact` is printed as Contacts (every contact of the AOR).
const AOR: Field[] = [
  ['type', 'h', ''],
  ['minimum_expiration', 's', '60'],
  ['maximum_expiration', 's', '7200'],
  ['default_expiration', 's', '3600'],
  ['qualify_frequency', 's', '0'],
  ['qualify_timeout', 'f', '3.000000'],
  ['qualify_2xx_only', 'b', 'false'],
  ['authenticate_qualify', 'b', 'false'],
  ['max_contacts', 's', '0'],
  ['remove_existing', 'b', 'false'],
  ['remove_unavailable', 'b', 'false'],
  ['contact', 's', ''],
  ['mailboxes', 's', ''],
  ['voicemail_extension', 's', ''],
  ['outbound_proxy', 's', ''],
  ['support_path', 'b', 'false'],
];

// res/res_pjsip/config_transport.c (transports live in pjsip.conf, not in realtime).
const TRANSPORT: Field[] = [
  ['type', 'h', ''],
  ['protocol', 's', 'udp'],
  ['bind', 's', ''],
  ['async_operations', 's', '1'],
  ['ca_list_file', 's', ''],
  ['ca_list_path', 's', ''],
  ['cert_file', 's', ''],
  ['priv_key_file', 's', ''],
  ['password', 's', ''],
  ['external_signaling_address', 's', ''],
  ['external_signaling_port', 's', '0'],
  ['external_media_address', 's', ''],
  ['domain', 's', ''],
  ['verify_server', 'Y', 'No'],
  ['verify_client', 'Y', 'No'],
  ['require_client_cert', 'Y', 'No'],
  ['allow_wildcard_certs', 'Y', 'No'],
  ['method', 's', 'unspecified'],
  ['tcp_keepalive_enable', 'b', 'false'],
  ['tcp_keepalive_idle_time', 's', '30'],
  ['tcp_keepalive_interval_time', 's', '1'],
  ['tcp_keepalive_probe_count', 's', '5'],
  ['cipher', 's', ''],
  ['local_net', 's', ''],
  ['tos', 's', '0'],
  ['cos', 's', '0'],
  ['websocket_write_timeout', 's', '100'],
  ['allow_reload', 'b', 'false'],
  ['symmetric_transport', 'b', 'false'],
];

// res/res_pjsip_endpoint_identifier_ip.c.
const IDENTIFY: Field[] = [
  ['type', 'h', ''],
  ['endpoint', 's', ''],
  ['match', 's', ''],
  ['match_header', 's', ''],
  ['match_request_uri', 's', ''],
  ['srv_lookups', 'b', 'true'],
];

export const OBJECT_FIELDS = {
  endpoint: sorceryOrder(ENDPOINT),
  auth: sorceryOrder(AUTH),
  aor: sorceryOrder(AOR),
  transport: sorceryOrder(TRANSPORT),
  identify: sorceryOrder(IDENTIFY),
} as const;

/** A realtime row as res_config_pgsql hands it over: column -> value, `^XX` escapes decoded. */
export type Row = Record<string, string>;

/** `ast_true`. */
export const astTrue = (v: string) => /^(yes|true|y|t|1|on)$/i.test(v.trim());

/** allow/disallow applied in column order (disallow first), as res_pjsip's codec handler does. */
function codecs(row: Row): string {
  let list: string[] = [];
  const apply = (value: string | undefined, allowing: boolean) => {
    for (const raw of (value ?? '').split(/[,|]/)) {
      const c = raw.trim().toLowerCase();
      if (!c) continue;
      if (c === 'all') list = allowing ? list : [];
      else if (allowing) list = list.includes(c) ? list : [...list, c];
      else list = list.filter((x) => x !== c);
    }
  };
  apply(row.disallow, false);
  apply(row.allow, true);
  return list.length ? `(${list.join('|')})` : '(nothing)';
}

/** `ast_callerid_split` then `ast_callerid_merge`: `"Name" <num>`, a lone name or number as is. */
function callerId(v: string): string {
  const lt = v.lastIndexOf('<');
  let name = v;
  let num = '';
  if (lt >= 0 && v.indexOf('>', lt) > lt) {
    num = v.slice(lt + 1, v.indexOf('>', lt)).trim();
    name = v.slice(0, lt).trim();
  } else if (/^[0-9*#+]+$/.test(v.trim())) {
    num = v.trim();
    name = '';
  }
  name = name.replace(/^"(.*)"$/s, '$1').trim();
  if (name && num) return `"${name.replace(/(["\\])/g, '\\$1')}" <${num}>`;
  return name || num || '<unknown>';
}

/** Codec negotiation preferences printed with every key, in Asterisk's key order. */
function prefs(v: string, fallback: string): string {
  const out = Object.fromEntries(fallback.split(', ').map((p) => p.split(':') as [string, string]));
  for (const part of v.split(',')) {
    const [k, val] = part.split(':').map((x) => x.trim());
    if (k && val && k in out) out[k] = val;
  }
  return Object.entries(out)
    .map(([k, val]) => `${k}:${val}`)
    .join(', ');
}

/** An object's fields as its AMI event lists them (after ObjectType/ObjectName). */
export function renderFields(fields: readonly Field[], row: Row): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, kind, fallback] of fields) {
    if (kind === 'h') continue;
    const v = row[name] ?? '';
    const set = v.trim() !== '';
    if (kind === 'o') {
      if (set) out.push([camel(name), v]);
      continue;
    }
    const key = name === 'contact' ? 'Contacts' : camel(name);
    if (kind === 'codec') out.push([key, codecs(row)]);
    else if (!set) out.push([key, fallback]);
    else if (kind === 'b') out.push([key, astTrue(v) ? 'true' : 'false']);
    else if (kind === 'y') out.push([key, astTrue(v) ? 'yes' : 'no']);
    else if (kind === 'Y') out.push([key, astTrue(v) ? 'Yes' : 'No']);
    else if (kind === 'f') out.push([key, Number(v).toFixed(6)]);
    else if (kind === 'list')
      out.push([
        key,
        v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .join(','),
      ]);
    else if (kind === 'cid') out.push([key, callerId(v)]);
    else if (kind === 'prefs') out.push([key, prefs(v, fallback)]);
    else out.push([key, v]);
  }
  return out;
}
