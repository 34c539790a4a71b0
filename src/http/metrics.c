#include "http/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "base/jobs.h"
#include "base/util.h"
#include "http/router.h"
#include "http/server.h"
#include "store/db.h"

static const int statuses[] = { 200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405,
				 408, 409, 413, 414, 415, 417, 422, 429, 431, 500, 501, 503, 505, 0 /* other */ };
#define NSTATUS ARRAY_LEN(statuses)
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define NBUCKET ARRAY_LEN(buckets)

struct route_metrics {
	_Atomic uint64_t by_status[NSTATUS];
	_Atomic uint64_t bucket[NBUCKET + 1]; /* last = +Inf */
	_Atomic uint64_t sum_ns;
};

struct metrics {
	size_t nroutes;
	struct route_metrics *r; /* nroutes + 1 */
	_Atomic long conns;
};

struct metrics *metrics_new(size_t nroutes)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	m->nroutes = nroutes;
	m->r = xcalloc(nroutes + 1, sizeof(*m->r));
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->r);
	free(m);
}

void metrics_observe(struct metrics *m, size_t route, int status, uint64_t dur_ns)
{
	if (route > m->nroutes)
		route = m->nroutes;
	struct route_metrics *rm = &m->r[route];
	size_t s = NSTATUS - 1;
	for (size_t i = 0; i + 1 < NSTATUS; i++)
		if (statuses[i] == status)
			s = i;
	atomic_fetch_add_explicit(&rm->by_status[s], 1, memory_order_relaxed);
	double secs = (double)dur_ns / 1e9;
	size_t b = NBUCKET;
	for (size_t i = 0; i < NBUCKET; i++)
		if (secs <= buckets[i]) {
			b = i;
			break;
		}
	atomic_fetch_add_explicit(&rm->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rm->sum_ns, dur_ns, memory_order_relaxed);
}

void metrics_conn(struct metrics *m, int delta)
{
	atomic_fetch_add_explicit(&m->conns, delta, memory_order_relaxed);
}

static void (*sources[8])(struct sb *out);
static size_t nsources;

void metrics_add_source(void (*fn)(struct sb *out))
{
	for (size_t i = 0; i < nsources; i++)
		if (sources[i] == fn)
			return;
	if (nsources < ARRAY_LEN(sources))
		sources[nsources++] = fn;
}

void metrics_render(struct metrics *m, const struct app *app, struct sb *out)
{
	sb_adds(out, "# HELP govhall_http_requests_total HTTP requests by route and status.\n"
		     "# TYPE govhall_http_requests_total counter\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *name = i < m->nroutes ? router_at(app->router, i)->name : "unmatched";
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t v = atomic_load_explicit(&m->r[i].by_status[s], memory_order_relaxed);
			if (!v)
				continue;
			if (statuses[s])
				sb_addf(out, "govhall_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", name,
					statuses[s], (unsigned long long)v);
			else
				sb_addf(out, "govhall_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
					name, (unsigned long long)v);
		}
	}
	sb_adds(out, "# HELP govhall_http_request_duration_seconds Time from request to response.\n"
		     "# TYPE govhall_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *name = i < m->nroutes ? router_at(app->router, i)->name : "unmatched";
		uint64_t cum = 0;
		for (size_t b = 0; b <= NBUCKET; b++)
			cum += atomic_load_explicit(&m->r[i].bucket[b], memory_order_relaxed);
		if (!cum)
			continue;
		uint64_t total = cum;
		cum = 0;
		for (size_t b = 0; b < NBUCKET; b++) {
			cum += atomic_load_explicit(&m->r[i].bucket[b], memory_order_relaxed);
			sb_addf(out, "govhall_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				name, buckets[b], (unsigned long long)cum);
		}
		sb_addf(out, "govhall_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
			name, (unsigned long long)total);
		sb_addf(out, "govhall_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
			(double)atomic_load_explicit(&m->r[i].sum_ns, memory_order_relaxed) / 1e9);
		sb_addf(out, "govhall_http_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
			(unsigned long long)total);
	}
	sb_addf(out, "# HELP govhall_http_connections Open client connections.\n"
		     "# TYPE govhall_http_connections gauge\ngovhall_http_connections %ld\n",
		atomic_load_explicit(&m->conns, memory_order_relaxed));
	struct server_conn_stats cs;
	server_conn_stats(&cs);
	sb_addf(out, "# HELP govhall_http_connections_shed_total Connections answered 503 and closed on arrival.\n"
		     "# TYPE govhall_http_connections_shed_total counter\n"
		     "govhall_http_connections_shed_total{reason=\"per_address\"} %llu\n"
		     "govhall_http_connections_shed_total{reason=\"limit\"} %llu\n"
		     "govhall_http_connections_shed_total{reason=\"descriptors\"} %llu\n"
		     "# HELP govhall_http_connections_evicted_total Connections holding no request closed to admit others.\n"
		     "# TYPE govhall_http_connections_evicted_total counter\ngovhall_http_connections_evicted_total %llu\n"
		     "# HELP govhall_http_connection_timeouts_total Connections whose deadline passed.\n"
		     "# TYPE govhall_http_connection_timeouts_total counter\ngovhall_http_connection_timeouts_total %llu\n"
		     "# HELP govhall_http_streams Long-lived responses (event streams) open.\n"
		     "# TYPE govhall_http_streams gauge\ngovhall_http_streams %ld\n"
		     "# HELP govhall_http_streams_refused_total Event streams refused over stream-max or stream-max-per-ip.\n"
		     "# TYPE govhall_http_streams_refused_total counter\ngovhall_http_streams_refused_total %llu\n",
		(unsigned long long)cs.shed_per_address, (unsigned long long)cs.shed_limit,
		(unsigned long long)cs.shed_descriptors, (unsigned long long)cs.evicted,
		(unsigned long long)cs.timeouts, cs.streams, (unsigned long long)cs.streams_refused);

	struct db_stats ds;
	db_stats_get(&ds);
	sb_addf(out, "# HELP govhall_db_queries_total Database statements executed.\n"
		     "# TYPE govhall_db_queries_total counter\ngovhall_db_queries_total %llu\n"
		     "# HELP govhall_db_errors_total Database statements that failed.\n"
		     "# TYPE govhall_db_errors_total counter\ngovhall_db_errors_total %llu\n"
		     "# HELP govhall_db_prepares_total Statements prepared (once per connection each).\n"
		     "# TYPE govhall_db_prepares_total counter\ngovhall_db_prepares_total %llu\n",
		(unsigned long long)ds.queries, (unsigned long long)ds.errors,
		(unsigned long long)ds.prepares);

	if (app->jobs) {
		struct jobs_stats js;
		jobs_stats_get(app->jobs, &js);
		sb_addf(out, "# HELP govhall_jobs_queued Jobs waiting in the pool's queue.\n"
			     "# TYPE govhall_jobs_queued gauge\ngovhall_jobs_queued %zu\n"
			     "# HELP govhall_jobs_capacity Capacity of the job queue.\n"
			     "# TYPE govhall_jobs_capacity gauge\ngovhall_jobs_capacity %zu\n"
			     "# HELP govhall_jobs_completed_total Jobs completed.\n"
			     "# TYPE govhall_jobs_completed_total counter\ngovhall_jobs_completed_total %llu\n"
			     "# HELP govhall_jobs_rejected_total Jobs refused: queue full, per-address cap, or expected wait too long.\n"
			     "# TYPE govhall_jobs_rejected_total counter\ngovhall_jobs_rejected_total %llu\n"
			     "# HELP govhall_jobs_service_seconds Moving mean of a job's service time (admission uses it).\n"
			     "# TYPE govhall_jobs_service_seconds gauge\ngovhall_jobs_service_seconds %.4f\n",
			js.queued, js.capacity, (unsigned long long)js.completed,
			(unsigned long long)js.rejected, (double)js.mean_service_ns / 1e9);
	}
	uint64_t hits, misses;
	server_cache_stats(&hits, &misses);
	sb_addf(out, "# HELP govhall_cache_hits_total Responses served from a node-local cache.\n"
		     "# TYPE govhall_cache_hits_total counter\ngovhall_cache_hits_total %llu\n"
		     "# HELP govhall_cache_misses_total Cacheable responses that had to be rendered.\n"
		     "# TYPE govhall_cache_misses_total counter\ngovhall_cache_misses_total %llu\n",
		(unsigned long long)hits, (unsigned long long)misses);
	for (size_t i = 0; i < nsources; i++)
		sources[i](out);
	sb_addf(out, "# HELP govhall_uptime_seconds Seconds since the process started.\n"
		     "# TYPE govhall_uptime_seconds gauge\ngovhall_uptime_seconds %lld\n",
		(long long)(time(NULL) - app->started));
}
