-- Asterisk's PJSIP realtime tables (src/db/schema/asterisk.ts), written so that it also runs on a
-- database where Asterisk's own alembic scripts created them first: each type is created only when
-- missing, each table only when missing, and each column Asterisk defines is added only when missing.
-- Existing tables, columns, types and rows are left as they are.
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."ast_bool_values" AS ENUM('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_auth_type_values_v2" AS ENUM('md5', 'userpass', 'google_oauth');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_cid_privacy_values" AS ENUM('allowed_not_screened', 'allowed_passed_screened', 'allowed_failed_screened', 'allowed', 'prohib_not_screened', 'prohib_passed_screened', 'prohib_failed_screened', 'prohib', 'unavailable');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_connected_line_method_values" AS ENUM('invite', 'reinvite', 'update');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_dtls_setup_values" AS ENUM('active', 'passive', 'actpass');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_dtmf_mode_values_v3" AS ENUM('rfc4733', 'inband', 'info', 'auto', 'auto_info');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_direct_media_glare_mitigation_values" AS ENUM('none', 'outgoing', 'incoming');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_incoming_call_offer_pref_values" AS ENUM('local', 'local_first', 'remote', 'remote_first');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_media_encryption_values" AS ENUM('no', 'sdes', 'dtls');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_outgoing_call_offer_pref_values" AS ENUM('local', 'local_merge', 'local_first', 'remote', 'remote_merge', 'remote_first');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_redirect_method_values" AS ENUM('user', 'uri_core', 'uri_pjsip');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_100rel_values_v2" AS ENUM('no', 'required', 'peer_supported', 'yes');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."security_negotiation_values" AS ENUM('no', 'mediasec');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."sha_hash_values" AS ENUM('SHA-1', 'SHA-256');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_t38udptl_ec_values" AS ENUM('none', 'fec', 'redundancy');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE TYPE "public"."pjsip_timer_values" AS ENUM('forced', 'no', 'required', 'yes');
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "ps_endpoints" (
  "id" varchar(255) NOT NULL,
  "transport" varchar(40),
  "aors" varchar(2048),
  "auth" varchar(255),
  "context" varchar(40),
  "disallow" varchar(200),
  "allow" varchar(200),
  "direct_media" ast_bool_values,
  "connected_line_method" pjsip_connected_line_method_values,
  "direct_media_method" pjsip_connected_line_method_values,
  "direct_media_glare_mitigation" pjsip_direct_media_glare_mitigation_values,
  "disable_direct_media_on_nat" ast_bool_values,
  "dtmf_mode" pjsip_dtmf_mode_values_v3,
  "external_media_address" varchar(40),
  "force_rport" ast_bool_values,
  "ice_support" ast_bool_values,
  "identify_by" varchar(80),
  "mailboxes" varchar(40),
  "moh_suggest" varchar(40),
  "outbound_auth" varchar(255),
  "outbound_proxy" varchar(255),
  "rewrite_contact" ast_bool_values,
  "rtp_ipv6" ast_bool_values,
  "rtp_symmetric" ast_bool_values,
  "send_diversion" ast_bool_values,
  "send_pai" ast_bool_values,
  "send_rpid" ast_bool_values,
  "timers_min_se" integer,
  "timers" pjsip_timer_values,
  "timers_sess_expires" integer,
  "callerid" varchar(40),
  "callerid_privacy" pjsip_cid_privacy_values,
  "callerid_tag" varchar(40),
  "100rel" pjsip_100rel_values_v2,
  "aggregate_mwi" ast_bool_values,
  "trust_id_inbound" ast_bool_values,
  "trust_id_outbound" ast_bool_values,
  "use_ptime" ast_bool_values,
  "use_avpf" ast_bool_values,
  "media_encryption" pjsip_media_encryption_values,
  "inband_progress" ast_bool_values,
  "call_group" varchar(40),
  "pickup_group" varchar(40),
  "named_call_group" varchar(40),
  "named_pickup_group" varchar(40),
  "device_state_busy_at" integer,
  "fax_detect" ast_bool_values,
  "t38_udptl" ast_bool_values,
  "t38_udptl_ec" pjsip_t38udptl_ec_values,
  "t38_udptl_maxdatagram" integer,
  "t38_udptl_nat" ast_bool_values,
  "t38_udptl_ipv6" ast_bool_values,
  "tone_zone" varchar(40),
  "language" varchar(40),
  "one_touch_recording" ast_bool_values,
  "record_on_feature" varchar(40),
  "record_off_feature" varchar(40),
  "rtp_engine" varchar(40),
  "allow_transfer" ast_bool_values,
  "allow_subscribe" ast_bool_values,
  "sdp_owner" varchar(40),
  "sdp_session" varchar(40),
  "tos_audio" varchar(10),
  "tos_video" varchar(10),
  "sub_min_expiry" integer,
  "from_domain" varchar(40),
  "from_user" varchar(40),
  "mwi_from_user" varchar(40),
  "dtls_verify" varchar(40),
  "dtls_rekey" varchar(40),
  "dtls_cert_file" varchar(200),
  "dtls_private_key" varchar(200),
  "dtls_cipher" varchar(200),
  "dtls_ca_file" varchar(200),
  "dtls_ca_path" varchar(200),
  "dtls_setup" pjsip_dtls_setup_values,
  "srtp_tag_32" ast_bool_values,
  "media_address" varchar(40),
  "redirect_method" pjsip_redirect_method_values,
  "set_var" text,
  "cos_audio" integer,
  "cos_video" integer,
  "message_context" varchar(40),
  "force_avp" ast_bool_values,
  "media_use_received_transport" ast_bool_values,
  "accountcode" varchar(80),
  "user_eq_phone" ast_bool_values,
  "moh_passthrough" ast_bool_values,
  "media_encryption_optimistic" ast_bool_values,
  "rpid_immediate" ast_bool_values,
  "g726_non_standard" ast_bool_values,
  "rtp_keepalive" integer,
  "rtp_timeout" integer,
  "rtp_timeout_hold" integer,
  "bind_rtp_to_media_address" ast_bool_values,
  "voicemail_extension" varchar(40),
  "mwi_subscribe_replaces_unsolicited" ast_bool_values,
  "deny" varchar(95),
  "permit" varchar(95),
  "acl" varchar(40),
  "contact_deny" varchar(95),
  "contact_permit" varchar(95),
  "contact_acl" varchar(40),
  "subscribe_context" varchar(40),
  "fax_detect_timeout" integer,
  "contact_user" varchar(80),
  "preferred_codec_only" ast_bool_values,
  "asymmetric_rtp_codec" ast_bool_values,
  "rtcp_mux" ast_bool_values,
  "allow_overlap" ast_bool_values,
  "refer_blind_progress" ast_bool_values,
  "notify_early_inuse_ringing" ast_bool_values,
  "max_audio_streams" integer,
  "max_video_streams" integer,
  "webrtc" ast_bool_values,
  "dtls_fingerprint" sha_hash_values,
  "incoming_mwi_mailbox" varchar(40),
  "bundle" ast_bool_values,
  "dtls_auto_generate_cert" ast_bool_values,
  "follow_early_media_fork" ast_bool_values,
  "accept_multiple_sdp_answers" ast_bool_values,
  "suppress_q850_reason_headers" ast_bool_values,
  "trust_connected_line" ast_bool_values,
  "send_connected_line" ast_bool_values,
  "ignore_183_without_sdp" ast_bool_values,
  "codec_prefs_incoming_offer" varchar(128),
  "codec_prefs_outgoing_offer" varchar(128),
  "codec_prefs_incoming_answer" varchar(128),
  "codec_prefs_outgoing_answer" varchar(128),
  "stir_shaken" ast_bool_values,
  "send_history_info" ast_bool_values,
  "allow_unauthenticated_options" ast_bool_values,
  "t38_bind_udptl_to_media_address" ast_bool_values,
  "geoloc_incoming_call_profile" varchar(80),
  "geoloc_outgoing_call_profile" varchar(80),
  "incoming_call_offer_pref" pjsip_incoming_call_offer_pref_values,
  "outgoing_call_offer_pref" pjsip_outgoing_call_offer_pref_values,
  "stir_shaken_profile" varchar(80),
  "security_negotiation" security_negotiation_values,
  "security_mechanisms" varchar(512),
  "send_aoc" ast_bool_values,
  "overlap_context" varchar(80),
  "tenantid" varchar(80),
  "suppress_moh_on_sendonly" ast_bool_values,
  "follow_redirect_methods" varchar(95),
  "rtp_port_start" integer,
  "rtp_port_end" integer,
  "tos_text" varchar(10),
  "cos_text" integer,
  "max_text_streams" integer,
  "timers_refresher" varchar(40),
  CONSTRAINT "ps_endpoints_id_key" UNIQUE ("id")
);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "id" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "transport" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "aors" varchar(2048);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "auth" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "context" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "disallow" varchar(200);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "allow" varchar(200);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "direct_media" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "connected_line_method" pjsip_connected_line_method_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "direct_media_method" pjsip_connected_line_method_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "direct_media_glare_mitigation" pjsip_direct_media_glare_mitigation_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "disable_direct_media_on_nat" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtmf_mode" pjsip_dtmf_mode_values_v3;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "external_media_address" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "force_rport" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "ice_support" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "identify_by" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "mailboxes" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "moh_suggest" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "outbound_auth" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "outbound_proxy" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rewrite_contact" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtp_ipv6" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtp_symmetric" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "send_diversion" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "send_pai" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "send_rpid" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "timers_min_se" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "timers" pjsip_timer_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "timers_sess_expires" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "callerid" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "callerid_privacy" pjsip_cid_privacy_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "callerid_tag" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "100rel" pjsip_100rel_values_v2;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "aggregate_mwi" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "trust_id_inbound" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "trust_id_outbound" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "use_ptime" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "use_avpf" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "media_encryption" pjsip_media_encryption_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "inband_progress" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "call_group" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "pickup_group" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "named_call_group" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "named_pickup_group" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "device_state_busy_at" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "fax_detect" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "t38_udptl" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "t38_udptl_ec" pjsip_t38udptl_ec_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "t38_udptl_maxdatagram" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "t38_udptl_nat" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "t38_udptl_ipv6" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "tone_zone" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "language" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "one_touch_recording" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "record_on_feature" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "record_off_feature" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtp_engine" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "allow_transfer" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "allow_subscribe" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "sdp_owner" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "sdp_session" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "tos_audio" varchar(10);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "tos_video" varchar(10);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "sub_min_expiry" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "from_domain" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "from_user" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "mwi_from_user" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_verify" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_rekey" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_cert_file" varchar(200);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_private_key" varchar(200);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_cipher" varchar(200);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_ca_file" varchar(200);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_ca_path" varchar(200);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_setup" pjsip_dtls_setup_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "srtp_tag_32" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "media_address" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "redirect_method" pjsip_redirect_method_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "set_var" text;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "cos_audio" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "cos_video" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "message_context" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "force_avp" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "media_use_received_transport" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "accountcode" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "user_eq_phone" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "moh_passthrough" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "media_encryption_optimistic" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rpid_immediate" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "g726_non_standard" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtp_keepalive" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtp_timeout" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtp_timeout_hold" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "bind_rtp_to_media_address" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "voicemail_extension" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "mwi_subscribe_replaces_unsolicited" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "deny" varchar(95);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "permit" varchar(95);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "acl" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "contact_deny" varchar(95);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "contact_permit" varchar(95);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "contact_acl" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "subscribe_context" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "fax_detect_timeout" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "contact_user" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "preferred_codec_only" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "asymmetric_rtp_codec" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtcp_mux" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "allow_overlap" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "refer_blind_progress" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "notify_early_inuse_ringing" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "max_audio_streams" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "max_video_streams" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "webrtc" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_fingerprint" sha_hash_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "incoming_mwi_mailbox" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "bundle" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "dtls_auto_generate_cert" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "follow_early_media_fork" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "accept_multiple_sdp_answers" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "suppress_q850_reason_headers" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "trust_connected_line" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "send_connected_line" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "ignore_183_without_sdp" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "codec_prefs_incoming_offer" varchar(128);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "codec_prefs_outgoing_offer" varchar(128);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "codec_prefs_incoming_answer" varchar(128);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "codec_prefs_outgoing_answer" varchar(128);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "stir_shaken" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "send_history_info" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "allow_unauthenticated_options" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "t38_bind_udptl_to_media_address" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "geoloc_incoming_call_profile" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "geoloc_outgoing_call_profile" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "incoming_call_offer_pref" pjsip_incoming_call_offer_pref_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "outgoing_call_offer_pref" pjsip_outgoing_call_offer_pref_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "stir_shaken_profile" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "security_negotiation" security_negotiation_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "security_mechanisms" varchar(512);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "send_aoc" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "overlap_context" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "tenantid" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "suppress_moh_on_sendonly" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "follow_redirect_methods" varchar(95);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtp_port_start" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "rtp_port_end" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "tos_text" varchar(10);
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "cos_text" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "max_text_streams" integer;
--> statement-breakpoint
ALTER TABLE "ps_endpoints" ADD COLUMN IF NOT EXISTS "timers_refresher" varchar(40);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ps_endpoints_id" ON "ps_endpoints" ("id");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "ps_auths" (
  "id" varchar(255) NOT NULL,
  "auth_type" pjsip_auth_type_values_v2,
  "nonce_lifetime" integer,
  "md5_cred" varchar(40),
  "password" varchar(80),
  "realm" varchar(255),
  "username" varchar(40),
  "refresh_token" varchar(255),
  "oauth_clientid" varchar(255),
  "oauth_secret" varchar(255),
  "password_digest" varchar(1024),
  "supported_algorithms_uas" varchar(1024),
  "supported_algorithms_uac" varchar(1024),
  CONSTRAINT "ps_auths_id_key" UNIQUE ("id")
);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "id" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "auth_type" pjsip_auth_type_values_v2;
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "nonce_lifetime" integer;
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "md5_cred" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "password" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "realm" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "username" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "refresh_token" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "oauth_clientid" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "oauth_secret" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "password_digest" varchar(1024);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "supported_algorithms_uas" varchar(1024);
--> statement-breakpoint
ALTER TABLE "ps_auths" ADD COLUMN IF NOT EXISTS "supported_algorithms_uac" varchar(1024);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ps_auths_id" ON "ps_auths" ("id");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "ps_aors" (
  "id" varchar(255) NOT NULL,
  "contact" varchar(255),
  "default_expiration" integer,
  "mailboxes" varchar(80),
  "max_contacts" integer,
  "minimum_expiration" integer,
  "remove_existing" ast_bool_values,
  "qualify_frequency" integer,
  "authenticate_qualify" ast_bool_values,
  "maximum_expiration" integer,
  "outbound_proxy" varchar(255),
  "support_path" ast_bool_values,
  "qualify_timeout" double precision,
  "voicemail_extension" varchar(40),
  "remove_unavailable" ast_bool_values,
  "qualify_2xx_only" ast_bool_values,
  CONSTRAINT "ps_aors_id_key" UNIQUE ("id")
);
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "id" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "contact" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "default_expiration" integer;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "mailboxes" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "max_contacts" integer;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "minimum_expiration" integer;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "remove_existing" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "qualify_frequency" integer;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "authenticate_qualify" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "maximum_expiration" integer;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "outbound_proxy" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "support_path" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "qualify_timeout" double precision;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "voicemail_extension" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "remove_unavailable" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_aors" ADD COLUMN IF NOT EXISTS "qualify_2xx_only" ast_bool_values;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ps_aors_id" ON "ps_aors" ("id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ps_aors_qualifyfreq_contact" ON "ps_aors" ("qualify_frequency", "contact");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "ps_endpoint_id_ips" (
  "id" varchar(255) NOT NULL,
  "endpoint" varchar(255),
  "match" varchar(80),
  "srv_lookups" ast_bool_values,
  "match_header" varchar(255),
  "match_request_uri" varchar(255),
  CONSTRAINT "ps_endpoint_id_ips_id_key" UNIQUE ("id")
);
--> statement-breakpoint
ALTER TABLE "ps_endpoint_id_ips" ADD COLUMN IF NOT EXISTS "id" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_endpoint_id_ips" ADD COLUMN IF NOT EXISTS "endpoint" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_endpoint_id_ips" ADD COLUMN IF NOT EXISTS "match" varchar(80);
--> statement-breakpoint
ALTER TABLE "ps_endpoint_id_ips" ADD COLUMN IF NOT EXISTS "srv_lookups" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_endpoint_id_ips" ADD COLUMN IF NOT EXISTS "match_header" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_endpoint_id_ips" ADD COLUMN IF NOT EXISTS "match_request_uri" varchar(255);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ps_endpoint_id_ips_id" ON "ps_endpoint_id_ips" ("id");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "ps_contacts" (
  "id" varchar(255) NOT NULL,
  "uri" varchar(511),
  "expiration_time" bigint,
  "qualify_frequency" integer,
  "outbound_proxy" varchar(255),
  "path" text,
  "user_agent" varchar(255),
  "qualify_timeout" double precision,
  "reg_server" varchar(255),
  "authenticate_qualify" ast_bool_values,
  "via_addr" varchar(40),
  "via_port" integer,
  "call_id" varchar(255),
  "endpoint" varchar(255),
  "prune_on_boot" ast_bool_values,
  "qualify_2xx_only" ast_bool_values,
  CONSTRAINT "ps_contacts_id_key" UNIQUE ("id")
);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "id" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "uri" varchar(511);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "expiration_time" bigint;
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "qualify_frequency" integer;
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "outbound_proxy" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "path" text;
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "user_agent" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "qualify_timeout" double precision;
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "reg_server" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "authenticate_qualify" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "via_addr" varchar(40);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "via_port" integer;
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "call_id" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "endpoint" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "prune_on_boot" ast_bool_values;
--> statement-breakpoint
ALTER TABLE "ps_contacts" ADD COLUMN IF NOT EXISTS "qualify_2xx_only" ast_bool_values;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ps_contacts_id" ON "ps_contacts" ("id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ps_contacts_qualifyfreq_exp" ON "ps_contacts" ("qualify_frequency", "expiration_time");
--> statement-breakpoint
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ps_contacts_uq') THEN
    ALTER TABLE "ps_contacts" ADD CONSTRAINT "ps_contacts_uq" UNIQUE ("id", "reg_server");
  END IF;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "ps_domain_aliases" (
  "id" varchar(255) NOT NULL,
  "domain" varchar(255),
  CONSTRAINT "ps_domain_aliases_id_key" UNIQUE ("id")
);
--> statement-breakpoint
ALTER TABLE "ps_domain_aliases" ADD COLUMN IF NOT EXISTS "id" varchar(255);
--> statement-breakpoint
ALTER TABLE "ps_domain_aliases" ADD COLUMN IF NOT EXISTS "domain" varchar(255);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ps_domain_aliases_id" ON "ps_domain_aliases" ("id");
