/* config.h: settings, from (lowest to highest precedence) built-in defaults, the INI file
 * (govhall.conf or --config FILE), GOVHALL_* environment variables, and command-line flags.
 * Every setting is listed once in config.c's table, which also produces the --help text, so
 * the documentation cannot drift from the code. Strings are owned by the struct. */
#ifndef GH_CONFIG_H
#define GH_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct config {
	char *listen;          /* host:port */
	char *db;              /* SQLite path or postgresql:// URL */
	char *sqlite_synchronous; /* "full" (durable, the default) or "normal" */
	long write_queue;      /* submissions waiting for the group-commit writer, at most */
	long write_batch;      /* submissions per group-commit transaction, at most */
	long blob_grace;       /* seconds an unnamed stored file is kept (store/blob.h) */
	long threads;          /* HTTP workers; 0 = number of cores */
	long job_threads;      /* job pool threads */
	long job_queue;        /* job queue capacity */
	long job_max_wait_ms;  /* admission: longest expected wait of a job (0 = no limit) */
	long job_queue_per_address; /* jobs waiting per client address (0 = no cap) */
	long max_body;         /* bytes */
	long max_headers;      /* bytes of all request headers */
	long max_uri;          /* bytes of the request target */
	long max_conns;        /* open connections per worker */
	long idle_timeout;     /* seconds a kept-alive connection may wait for its next request */
	long header_timeout;   /* seconds to receive a request's headers, in total */
	long body_timeout;     /* seconds to receive a request's body, or to send a response, in total */
	long max_conns_per_ip; /* open connections per client address, per node */
	long max_open_files;   /* RLIMIT_NOFILE to run with; 0 = the hard limit */
	long cache_recheck_ms; /* how stale a cached page may be, at most */
	bool compress;         /* text responses compressed when the client accepts it */
	long compress_min_bytes; /* ... and the body has at least this many bytes */
	char *static_dir;
	char *templates_dir;
	char *data_dir;
	char *workflow;        /* the workflow definition file; empty = <data_dir>/workflow.json */
	char *log_level;       /* debug, info, warn, error */
	char *public_url;      /* how users reach us, e.g. https://hall.example.gov.cn */
	bool behind_tls;
	bool trust_proxy;      /* older switch: trusted_proxies = this machine (loopback) */
	char *trusted_proxies; /* addresses/CIDRs whose X-Forwarded-For / PROXY header is believed */
	bool proxy_protocol;   /* trusted proxies open each connection with a PROXY header (v1/v2) */
	char *key_file;        /* keys for personal data, tokens and CSRF */
	long session_idle;     /* seconds of inactivity that end a session */
	long session_max;      /* seconds after which a session ends regardless */
	char *upload_dir;      /* where earlier versions kept attachments (govhall uploads import) */
	long max_upload;       /* bytes of one uploaded file */
	long max_upload_total; /* bytes of all files of one application */
	char *notify_webhook_url;    /* POST each notification here ("" = off) */
	char *notify_webhook_secret; /* HMAC-SHA256 key signing webhook and SMS requests */
	char *notify_sms_url;        /* SMS gateway: POST {phone, text} ("" = off) */
	char *notify_smtp_url;       /* e-mail through this SMTP server ("" = off) */
	char *notify_smtp_from;      /* sender address */
	char *notify_smtp_user, *notify_smtp_password; /* "" = no authentication */
	long rectify_days;           /* working days to rectify a bad review (src/interact) */
	long consult_days;           /* working days to answer a consultation */
	long complaint_days;         /* working days to answer a complaint or suggestion */
	long complaint_escalate_days; /* working days overdue before administrators are told */
	long evaluate_invite_days;   /* days after completion an unrated case gets an invitation */
	/* Long-lived responses (Server-Sent Events, http/server.h req_stream). */
	long stream_max;             /* open streams per node */
	long stream_max_per_ip;      /* open streams per client address, per node */
	long stream_heartbeat;       /* seconds between heartbeats of an idle stream */
	long stream_max_age;         /* seconds a stream lives before the client reconnects */
	/* Appointments and queueing (src/booking). */
	long booking_hold;           /* seconds a place is held while the citizen confirms */
	long booking_min_days;       /* bookable from this many working days ahead ... */
	long booking_max_days;       /* ... to this many */
	long booking_change_before;  /* minutes before the slot after which no cancel or reschedule */
	long booking_max_active;     /* active bookings per person and item */
	long booking_noshow_limit;   /* no-shows within the window that pause online booking */
	long booking_noshow_window;  /* days of that window */
	long booking_pause_days;     /* days online booking pauses */
	long booking_checkin_early;  /* minutes before its slot a booking may be checked in */
	long booking_display_poll;   /* milliseconds between a screen's looks at the database */
	/* payments (src/pay) */
	char *pay_gateway_url;       /* the payment gateway ("" = fees are not collected online) */
	char *pay_api_key;           /* the hall's key with the gateway */
	char *pay_notify_secret;     /* HMAC-SHA256 key of the gateway's signatures */
	char *pay_notify_public_key; /* or its Ed25519 public key (base64) */
	long pay_order_ttl;          /* seconds an order may be paid once sent */
	long pay_gateway_timeout;    /* milliseconds a call to the gateway may take, in all */
	long pay_notify_tolerance;   /* seconds a signature's time may differ from ours */
	long pay_query_after;        /* seconds before a pending order is asked about */
	long pay_settle_delay;       /* seconds after a day ends before it is reconciled */
	char *role;              /* "hall" or "hub" (src/federation) */
	char *fed_hub_url;       /* hall: the hub's issuer ("" = no national log-in) */
	char *fed_client_id;     /* hall: its client id at the hub */
	char *fed_client_secret; /* hall: its client secret at the hub */
	long fed_timeout;        /* milliseconds a call to the hub may take */
	long offers_period; /* seconds between the 免申即享 duty's looks at the news */
	long offers_sweep;  /* seconds between its sweeps over every active individual */
	long fed_directory_period; /* hall: seconds between fetches of the hub's directory */
	char *fed_retry;         /* hall: the outbox's back-off, seconds per attempt, "5,15,60" */
	long fed_witness_period; /* hall: seconds between rounds of collecting cosignatures */
};

void config_defaults(struct config *c);
void config_release(struct config *c);
/* Sets one setting by its INI/flag name ("listen", "max-body", ...). Returns 0, or -1 with a
 * message in err for an unknown name or a bad value. */
int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen);
/* True when name is a setting ("listen", "max-body", ...). */
bool config_known(const char *name);
/* Reads an INI file ([server], [security], [database], [paths], [log], [notify], [interact], [booking] sections;
 * keys as in --help). A missing file is fine when required is false. */
int config_load_file(struct config *c, const char *path, bool required, char *err, size_t errlen);
/* Applies GOVHALL_<NAME> variables (GOVHALL_LISTEN, GOVHALL_DB, GOVHALL_MAX_BODY, ...). */
int config_load_env(struct config *c, char *err, size_t errlen);
/* Prints every setting with its flag, variable, default and meaning. */
void config_print_help(FILE *f);

#endif
