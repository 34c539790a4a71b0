#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "base/paths.h"
#include "base/util.h"

enum kind { K_STR, K_LONG, K_BOOL };

struct setting {
	const char *name, *section, *def, *help;
	enum kind kind;
	size_t off;
	long min, max;
};

#define S(field) offsetof(struct config, field)
static const struct setting settings[] = {
	{ "listen", "server", "127.0.0.1:8080", "address and port to listen on (host:port)", K_STR, S(listen), 0, 0 },
	{ "threads", "server", "0", "HTTP worker threads, each with its own event loop (0 = number of cores)", K_LONG, S(threads), 0, 256 },
	{ "max-body", "server", "10485760", "largest request body in bytes", K_LONG, S(max_body), 1024, 1L << 30 },
	{ "max-headers", "server", "16384", "largest total size of request headers in bytes", K_LONG, S(max_headers), 1024, 1L << 20 },
	{ "max-uri", "server", "4096", "longest request target (path and query) in bytes", K_LONG, S(max_uri), 256, 65536 },
	{ "max-conns", "server", "4096", "open connections per worker thread", K_LONG, S(max_conns), 1, 1000000 },
	{ "idle-timeout", "server", "30", "seconds a kept-alive connection may wait for its next request; also the longest a response may wait for the client to read any of it", K_LONG, S(idle_timeout), 1, 3600 },
	{ "header-timeout", "server", "10", "seconds a client has to send a request's line and headers, in total from its first byte (from the connection's opening for the first request); a trickle does not extend it; then 408 and the connection is closed", K_LONG, S(header_timeout), 1, 3600 },
	{ "body-timeout", "server", "120", "seconds a client has to send a request's body after its headers, and to read a response, in total; then 408 (or the connection is closed)", K_LONG, S(body_timeout), 1, 86400 },
	{ "max-conns-per-ip", "server", "256", "open connections per client address (IPv6: per /64) on this node; more are closed at once (503). Connections from trusted proxies count against the address the PROXY header names, or not at all without it", K_LONG, S(max_conns_per_ip), 1, 1000000 },
	{ "max-open-files", "server", "0", "file descriptors to run with (RLIMIT_NOFILE); 0 = raise the soft limit to the hard limit at start. Connections are limited to what fits, with a reserve for the database, files and shedding", K_LONG, S(max_open_files), 0, 16777216 },
	{ "cache-recheck", "server", "250", "milliseconds a node may serve a cached catalog page before asking the database whether the catalog changed (0 = ask every time)", K_LONG, S(cache_recheck_ms), 0, 60000 },
	{ "compress", "server", "true", "compress text responses (HTML, JSON, CSS, JavaScript, SVG, CSV, XML) with Brotli or gzip when the client accepts it", K_BOOL, S(compress), 0, 0 },
	{ "compress-min-bytes", "server", "1024", "smallest response body worth compressing, in bytes", K_LONG, S(compress_min_bytes), 0, 1L << 30 },
	{ "job-threads", "server", "2", "threads of the job pool for slow work (hashing, PDF, delivery)", K_LONG, S(job_threads), 1, 256 },
	{ "job-queue", "server", "256", "jobs that may wait; beyond this requests get 503 with Retry-After", K_LONG, S(job_queue), 1, 1000000 },
	{ "job-max-wait", "server", "2000", "milliseconds a job may be expected to wait (jobs ahead of it x mean service time / job-threads); a request whose job would wait longer gets 503 with Retry-After at once (0 = no limit)", K_LONG, S(job_max_wait_ms), 0, 600000 },
	{ "job-queue-per-address", "server", "16", "jobs one client address may have waiting; the pool serves addresses in turn (0 = no cap)", K_LONG, S(job_queue_per_address), 0, 1000000 },
	{ "public-url", "server", "http://127.0.0.1:8080", "the address users reach the hall at (links, QR codes)", K_STR, S(public_url), 0, 0 },
	{ "behind-tls", "server", "false", "set when a TLS proxy is in front: cookies get Secure", K_BOOL, S(behind_tls), 0, 0 },
	{ "trusted-proxies", "server", "", "comma-separated addresses or CIDRs of your own proxies and load balancers (e.g. 10.0.0.0/8, ::1); only from these is X-Forwarded-For (its rightmost hop not in this list) or a PROXY header believed as the client's address", K_STR, S(trusted_proxies), 0, 0 },
	{ "proxy-protocol", "server", "false", "connections from trusted-proxies begin with a PROXY protocol v1 or v2 header (HAProxy send-proxy / send-proxy-v2) naming the client; required from them when on", K_BOOL, S(proxy_protocol), 0, 0 },
	{ "trust-proxy", "server", "false", "shorthand for trusted-proxies = 127.0.0.0/8, ::1 (a proxy on this machine) when trusted-proxies is empty", K_BOOL, S(trust_proxy), 0, 0 },
	{ "session-idle", "security", "1800", "seconds of inactivity after which a session ends", K_LONG, S(session_idle), 60, 86400 },
	{ "session-max", "security", "43200", "seconds after log-in at which a session ends regardless", K_LONG, S(session_max), 300, 2592000 },
	{ "key-file", "security", "govhall.key", "key file for personal data, tokens and CSRF (created by `govhall init`, mode 0600)", K_STR, S(key_file), 0, 0 },
	{ "db", "database", "govhall.db", "SQLite file path, or a postgresql:// URL", K_STR, S(db), 0, 0 },
	{ "sqlite-synchronous", "database", "full", "full: a submission that was answered survives a power cut (one fsync per group commit); normal: faster, the last moments may be lost on power loss (WAL keeps the file consistent either way)", K_STR, S(sqlite_synchronous), 0, 0 },
	{ "write-queue", "database", "4096", "submissions that may wait for the group-commit writer; beyond this they get 503 with Retry-After", K_LONG, S(write_queue), 1, 1000000 },
	{ "blob-grace", "database", "86400", "seconds a stored file that no application or published document names is kept before the collection removes it", K_LONG, S(blob_grace), 60, 31536000 },
	{ "write-batch", "database", "256", "submissions committed together in one transaction, at most (group commit)", K_LONG, S(write_batch), 1, 100000 },
	{ "static-dir", "paths", "static", "directory of static files served under /static/", K_STR, S(static_dir), 0, 0 },
	{ "templates-dir", "paths", "templates", "directory of page templates (*.mustache)", K_STR, S(templates_dir), 0, 0 },
	{ "data-dir", "paths", "data", "directory of data files (catalog, holidays, i18n)", K_STR, S(data_dir), 0, 0 },
	{ "workflow", "paths", "", "the workflow definition: the states of an application, the actions between them, who may take each (empty = workflow.json in data-dir; docs/architecture.md, The workflow)", K_STR, S(workflow), 0, 0 },
	{ "upload-dir", "paths", "uploads", "where earlier versions kept uploaded attachments (now in the database); read by `govhall uploads import`", K_STR, S(upload_dir), 0, 0 },
	{ "max-upload", "server", "10485760", "largest uploaded file in bytes (also bounded by max-body)", K_LONG, S(max_upload), 1024, 1L << 30 },
	{ "max-upload-total", "server", "52428800", "largest total of the files attached to one application, in bytes", K_LONG, S(max_upload_total), 1024, 1L << 34 },
	{ "log-level", "log", "info", "debug, info, warn or error", K_STR, S(log_level), 0, 0 },
	{ "notify-webhook-url", "notify", "", "send every notification to applicants as a signed JSON POST to this http(s) URL (empty = off; the site inbox always works)", K_STR, S(notify_webhook_url), 0, 0 },
	{ "notify-webhook-secret", "notify", "", "key of the HMAC-SHA256 signature (X-Govhall-Signature) on webhook and SMS gateway requests; required when either is on", K_STR, S(notify_webhook_secret), 0, 0 },
	{ "notify-smtp-url", "notify", "", "e-mail every notification to applicants who gave an address, through this SMTP server: smtp://host:port (STARTTLS when offered, required with a user) or smtps://host:port (empty = off)", K_STR, S(notify_smtp_url), 0, 0 },
	{ "notify-smtp-from", "notify", "", "sender address of notification e-mail, e.g. noreply@hall.example.gov.cn; required with notify-smtp-url", K_STR, S(notify_smtp_from), 0, 0 },
	{ "notify-smtp-user", "notify", "", "SMTP user name (empty = no authentication)", K_STR, S(notify_smtp_user), 0, 0 },
	{ "notify-smtp-password", "notify", "", "SMTP password; prefer the GOVHALL_NOTIFY_SMTP_PASSWORD environment variable", K_STR, S(notify_smtp_password), 0, 0 },
	{ "notify-sms-url", "notify", "", "SMS gateway: POST {phone, text} as signed JSON to this http(s) URL for every notification (empty = off)", K_STR, S(notify_sms_url), 0, 0 },
	{ "offers-period", "notify", "600", "seconds between two looks of the duty offering benefits without applying at what is new (accounts registered, certificates issued), whose accounts it judges against the proactive rules", K_LONG, S(offers_period), 1, 86400 },
	{ "offers-sweep", "notify", "86400", "seconds between two sweeps of the duty offering benefits without applying over every active individual (facts that change by the day, such as age); a new rule version starts one at once", K_LONG, S(offers_sweep), 60, 31536000 },
	{ "rectify-days", "interact", "5", "working days a department has to rectify a bad review (return visit, rectification, feedback)", K_LONG, S(rectify_days), 1, 365 },
	{ "consult-days", "interact", "3", "working days staff have to answer a consultation", K_LONG, S(consult_days), 1, 365 },
	{ "complaint-days", "interact", "5", "working days a department has to answer a complaint or suggestion; when overdue it goes to the department heads", K_LONG, S(complaint_days), 1, 365 },
	{ "complaint-escalate-days", "interact", "2", "working days a complaint may stay overdue with the department heads before administrators are told", K_LONG, S(complaint_escalate_days), 0, 365 },
	{ "pay-gateway-url", "pay", "", "the payment gateway's address, e.g. https://pay.example.gov.cn (empty = fees are shown on the guides and paid at the counter; nothing is collected online)", K_STR, S(pay_gateway_url), 0, 0 },
	{ "pay-api-key", "pay", "", "the hall's key with the payment gateway (sent as a bearer token); prefer the GOVHALL_PAY_API_KEY environment variable", K_STR, S(pay_api_key), 0, 0 },
	{ "pay-notify-secret", "pay", "", "HMAC-SHA256 key the gateway signs notifications and settlement files with; prefer GOVHALL_PAY_NOTIFY_SECRET", K_STR, S(pay_notify_secret), 0, 0 },
	{ "pay-notify-public-key", "pay", "", "instead of pay-notify-secret: the gateway's Ed25519 public key (base64)", K_STR, S(pay_notify_public_key), 0, 0 },
	{ "pay-order-ttl", "pay", "1800", "seconds an order may be paid once sent to the gateway", K_LONG, S(pay_order_ttl), 60, 86400 },
	{ "pay-gateway-timeout", "pay", "5000", "milliseconds one call to the gateway may take in all; then the citizen is asked to try again and the order stays pending", K_LONG, S(pay_gateway_timeout), 100, 60000 },
	{ "pay-notify-tolerance", "pay", "300", "seconds a notification's signed time may differ from the hall's clock; older ones are refused as stale", K_LONG, S(pay_notify_tolerance), 10, 3600 },
	{ "pay-query-after", "pay", "60", "seconds after which the payment duty asks the gateway about an order still pending", K_LONG, S(pay_query_after), 0, 86400 },
	{ "pay-settle-delay", "pay", "7200", "seconds after a day ends (China Standard Time) before the duty reconciles it with the gateway's settlement file", K_LONG, S(pay_settle_delay), 0, 604800 },
	{ "role", "federation", "hall", "what this node is: hall (a province's or a city's hall) or hub (the national hub: the OpenID Connect provider of one national identity; docs/federation.md)", K_STR, S(role), 0, 0 },
	{ "fed-hub-url", "federation", "", "hall: the national hub's issuer address, e.g. https://hub.example.gov.cn (empty = no log-in with the national account)", K_STR, S(fed_hub_url), 0, 0 },
	{ "fed-client-id", "federation", "", "hall: this hall's client id at the hub (`govhall federation client add` on the hub)", K_STR, S(fed_client_id), 0, 0 },
	{ "fed-client-secret", "federation", "", "hall: this hall's client secret at the hub; prefer the GOVHALL_FED_CLIENT_SECRET environment variable", K_STR, S(fed_client_secret), 0, 0 },
	{ "fed-timeout", "federation", "5000", "milliseconds one call to the hub may take in all", K_LONG, S(fed_timeout), 100, 60000 },
	{ "fed-retry", "federation", "5,15,60,300,1800,3600", "hall: seconds to wait before each new try of a message another hall did not take (the last one repeats); the outbox is looked at every first-number seconds", K_STR, S(fed_retry), 0, 0 },
	{ "fed-directory-period", "federation", "3600", "hall: seconds between two fetches of the hub's signed directory of halls (the last good copy stays in use meanwhile)", K_LONG, S(fed_directory_period), 1, 86400 },
	{ "fed-witness-period", "federation", "60", "hall: seconds between two rounds of asking the other halls' witnesses to cosign this hall's latest checkpoint (and of comparing their views for split views)", K_LONG, S(fed_witness_period), 1, 86400 },
	{ "evaluate-invite-days", "interact", "3", "days after an application ends that an invitation to rate it goes to the applicant, if still unrated", K_LONG, S(evaluate_invite_days), 0, 365 },
	{ "stream-max", "server", "512", "long-lived responses (the hall screens' event streams) open at once on this node; more get 503 with Retry-After", K_LONG, S(stream_max), 0, 100000 },
	{ "stream-max-per-ip", "server", "8", "long-lived responses open at once per client address on this node", K_LONG, S(stream_max_per_ip), 1, 100000 },
	{ "stream-heartbeat", "server", "15", "seconds after which an event stream with nothing to say sends a comment line, so proxies keep it and a vanished client is noticed", K_LONG, S(stream_heartbeat), 1, 3600 },
	{ "stream-max-age", "server", "3600", "seconds an event stream lives; then it ends and the client reconnects (EventSource does so by itself)", K_LONG, S(stream_max_age), 10, 86400 },
	{ "booking-hold", "booking", "600", "seconds a place in a slot is held for a citizen while they confirm the booking", K_LONG, S(booking_hold), 30, 86400 },
	{ "booking-min-days", "booking", "1", "the nearest day one may book, in working days from today", K_LONG, S(booking_min_days), 0, 365 },
	{ "booking-max-days", "booking", "30", "the furthest day one may book, in working days from today", K_LONG, S(booking_max_days), 1, 365 },
	{ "booking-change-before", "booking", "120", "minutes before the slot after which a booking can no longer be cancelled or moved", K_LONG, S(booking_change_before), 0, 10080 },
	{ "booking-max-active", "booking", "1", "bookings one person may hold at once for the same item (held, booked or checked in)", K_LONG, S(booking_max_active), 1, 100 },
	{ "booking-noshow-limit", "booking", "3", "no-shows within booking-noshow-window days after which online booking pauses for the person", K_LONG, S(booking_noshow_limit), 1, 100 },
	{ "booking-noshow-window", "booking", "30", "calendar days over which no-shows are counted", K_LONG, S(booking_noshow_window), 1, 365 },
	{ "booking-pause-days", "booking", "30", "calendar days online booking pauses after too many no-shows (booking by phone or at a counter stays open)", K_LONG, S(booking_pause_days), 1, 365 },
	{ "booking-checkin-early", "booking", "60", "minutes before its slot a booking may be checked in at the kiosk for a ticket", K_LONG, S(booking_checkin_early), 0, 720 },
	{ "booking-display-poll", "booking", "1000", "milliseconds between a hall screen's looks at the database for calls made on other nodes (calls on the same node show at once)", K_LONG, S(booking_display_poll), 100, 60000 },
};
#undef S

static const struct setting *find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(settings); i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	/* INI keys may use '_' for '-'. */
	char buf[64];
	size_t n = strlen(name);
	if (n >= sizeof(buf))
		return NULL;
	for (size_t i = 0; i <= n; i++)
		buf[i] = name[i] == '_' ? '-' : name[i];
	for (size_t i = 0; i < ARRAY_LEN(settings); i++)
		if (strcmp(settings[i].name, buf) == 0)
			return &settings[i];
	return NULL;
}

static int apply(struct config *c, const struct setting *s, const char *value, char *err, size_t errlen)
{
	char *base = (char *)c;
	switch (s->kind) {
	case K_STR: {
		char **p = (char **)(base + s->off);
		if (strcmp(s->name, "log-level") == 0 && strcmp(value, "debug") && strcmp(value, "info") &&
		    strcmp(value, "warn") && strcmp(value, "error")) {
			snprintf(err, errlen, "%s: expected debug, info, warn or error, got '%s'", s->name, value);
			return -1;
		}
		if (strcmp(s->name, "sqlite-synchronous") == 0 && strcmp(value, "full") && strcmp(value, "normal")) {
			snprintf(err, errlen, "sqlite-synchronous: expected full or normal, got '%s'", value);
			return -1;
		}
		if (strcmp(s->name, "listen") == 0 && !strchr(value, ':')) {
			snprintf(err, errlen, "listen: expected host:port, e.g. 127.0.0.1:8080, got '%s'", value);
			return -1;
		}
		free(*p);
		*p = xstrdup(value);
		return 0;
	}
	case K_LONG: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end || v < s->min || v > s->max) {
			snprintf(err, errlen, "%s: expected a whole number from %ld to %ld, got '%s'", s->name,
				 s->min, s->max, value);
			return -1;
		}
		*(long *)(base + s->off) = v;
		return 0;
	}
	case K_BOOL: {
		bool *p = (bool *)(base + s->off);
		if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes") || !strcmp(value, "on"))
			*p = true;
		else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no") || !strcmp(value, "off"))
			*p = false;
		else {
			snprintf(err, errlen, "%s: expected true or false, got '%s'", s->name, value);
			return -1;
		}
		return 0;
	}
	}
	return -1;
}

/* The read-only files govhall ships default to the share directory (base/paths.h), so the
 * binary runs from any working directory; the table's default is the name inside it. */
static bool in_share(const struct setting *s)
{
	return !strcmp(s->name, "static-dir") || !strcmp(s->name, "templates-dir") || !strcmp(s->name, "data-dir");
}

static const char *default_of(const struct setting *s, char *buf, size_t size)
{
	if (!in_share(s))
		return s->def;
	snprintf(buf, size, "%s/%s", paths_share_dir(), s->def);
	return buf;
}

void config_defaults(struct config *c)
{
	char err[256], buf[4200];
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < ARRAY_LEN(settings); i++)
		if (apply(c, &settings[i], default_of(&settings[i], buf, sizeof(buf)), err, sizeof(err)))
			die("config default: %s", err);
}

void config_release(struct config *c)
{
	for (size_t i = 0; i < ARRAY_LEN(settings); i++)
		if (settings[i].kind == K_STR) {
			char **p = (char **)((char *)c + settings[i].off);
			free(*p);
			*p = NULL;
		}
}

bool config_known(const char *name)
{
	return find(name) != NULL;
}

int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen)
{
	const struct setting *s = find(name);
	if (!s) {
		snprintf(err, errlen, "unknown setting '%s' (see govhall serve --help)", name);
		return -1;
	}
	return apply(c, s, value, err, errlen);
}

struct ini_ctx {
	struct config *c;
	char *err;
	size_t errlen;
	int failed;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *x = user;
	if (x->failed)
		return 0;
	const struct setting *s = find(name);
	if (!s || strcmp(s->section, section) != 0) {
		snprintf(x->err, x->errlen, "[%s] %s: unknown setting", section, name);
		x->failed = 1;
		return 0;
	}
	if (apply(x->c, s, value, x->err, x->errlen)) {
		x->failed = 1;
		return 0;
	}
	return 1;
}

int config_load_file(struct config *c, const char *path, bool required, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!required && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct ini_ctx x = { c, err, errlen, 0 };
	char inner[256] = "";
	x.err = inner;
	x.errlen = sizeof(inner);
	int line = ini_parse_file(f, on_ini, &x);
	fclose(f);
	if (line != 0 || x.failed) {
		snprintf(err, errlen, "%s:%d: %s", path, line, inner[0] ? inner : "syntax error");
		return -1;
	}
	return 0;
}

int config_load_env(struct config *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
		char var[64] = "GOVHALL_";
		size_t n = strlen(var);
		for (const char *p = settings[i].name; *p && n + 1 < sizeof(var); p++)
			var[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		var[n] = 0;
		const char *v = getenv(var);
		if (v && apply(c, &settings[i], v, err, errlen))
			return -1;
	}
	return 0;
}

void config_print_help(FILE *f)
{
	fprintf(f, "Settings (flag / environment variable / [section] key in the config file; default):\n");
	for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
		const struct setting *s = &settings[i];
		char var[64] = "GOVHALL_";
		size_t n = strlen(var);
		for (const char *p = s->name; *p && n + 1 < sizeof(var); p++)
			var[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		var[n] = 0;
		char buf[4200];
		fprintf(f, "  --%-14s %-22s [%s] %s\n      %s (default: %s)\n", s->name, var, s->section,
			s->name, s->help, default_of(s, buf, sizeof(buf)));
	}
}
