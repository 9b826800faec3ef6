// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcptop — a live terminal view of MCP traffic, read from mcpwire's JSON API
 * (docs/api.md, docs/mcptop.8).
 *
 * mcptop is a client only: it links jansson and ncurses, never libbpf. When
 * no mcpwire answers at a loopback --url and mcptop runs as root, it starts
 * build/mcpwire itself on an ephemeral loopback port and reads that one's
 * API, so "sudo mcptop" works on a workstation with one capture
 * implementation, the daemon's, and the API as the only interface between
 * them. The child dies with mcptop (SIGTERM at exit, PR_SET_PDEATHSIG if
 * mcptop is killed).
 *
 * The screen is redrawn with erase() and wnoutrefresh()/doupdate(), so
 * ncurses sends only what changed (no flicker); SIGINT/SIGTERM set a flag the
 * main loop checks (getch() wakes every 100 ms), endwin() runs there and at
 * exit; a crash restores the saved termios before dying. Logs go to a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <ncurses.h>

#include "mcptop/fetch.h"
#include "mcptop/model.h"
#include "mcptop/stats.h"
#include "version.h"

#define MCPTOP_DEFAULT_URL "http://127.0.0.1:9473"
#define MCPTOP_TIMEOUT_MS 2000
/* Quantiles look back this far: one poll alone is too few calls to rank. */
#define MCPTOP_QWINDOW_S 60.0
#define MCPTOP_TAIL 512
#define MCPTOP_MAX_ROWS 8192
#define MCPTOP_SPARK_W 20
#define MCPTOP_SPAWN_WAIT_S 30

enum { PAIR_RED = 1, PAIR_YELLOW, PAIR_GREEN, PAIR_TITLE, PAIR_HEAD };
enum sort_key { SORT_RATE, SORT_ERR, SORT_P95, SORT_CALLS, SORT_NAME, SORT__N };
static const char *const sort_names[] = {"calls/s", "error%", "p95", "calls", "name"};

struct opts {
	const char *url;
	double delay;
	int batch;
	long iterations; /* 0: forever */
	const char *log;
	const char *mcpwire;
	int no_spawn;
};

/* History of one table row across polls. */
struct row {
	char key[2 * MT_NAME_MAX + 4];
	struct stats_series ser;
	/* the client's wait (client_duration): calls is its count, no errors */
	struct stats_series cser;
};

/* A line of the current table. */
struct line {
	const struct mt_stat *st;
	const struct mt_server *srv; /* servers view: the server; detail: NULL */
	char kind;		     /* 'S' server, 'M' method, 'T' tool */
	struct stats_view v;
	struct stats_view cv; /* the client's wait: p50/p95 only */
	const struct row *row;
};

static volatile sig_atomic_t stop_flag;
static int ui_active;
static struct termios saved_tios;
static int saved_tios_ok;
static pid_t child = -1;
static FILE *logf_;
/* rmcup and cnorm, looked up before they are needed in a signal handler */
static const char *tty_rmcup, *tty_cnorm;

static struct {
	struct opts o;
	struct fetch_url url;
	struct mt_servers servers;
	struct row *rows;
	int nrows;
	struct mt_call tail[MCPTOP_TAIL]; /* ring */
	int ntail, tail_head;
	uint64_t last_seq;
	char status[256]; /* last error, shown in the title line */
	int utf8, colors;
	/* UI */
	int detail; /* 0: servers, 1: one server */
	char detail_name[MT_NAME_MAX];
	int sel, top;
	enum sort_key sort;
	char filter[64];
	int filtering; /* typing the filter */
	char filter_saved[64];
	int help;
	struct line *tab;
	int ntab;
} g;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	va_list ap;

	if (!logf_)
		return;
	strftime(ts, sizeof(ts), "%F %T", localtime(&now));
	fprintf(logf_, "%s ", ts);
	va_start(ap, fmt);
	vfprintf(logf_, fmt, ap);
	va_end(ap);
	fputc('\n', logf_);
	fflush(logf_);
}

/* ----------------------------------------------------------- terminal */

static void on_stop(int sig)
{
	stop_flag = 1;
}

/* A crash must not leave the user's terminal raw and hidden-cursored:
 * tcsetattr() and write() are async-signal-safe, endwin() is not. */
static void on_crash(int sig)
{
	if (ui_active && saved_tios_ok) {
		const char *s = tty_rmcup, *c = tty_cnorm;

		if (s && s != (char *)-1)
			(void)!write(STDOUT_FILENO, s, strlen(s));
		if (c && c != (char *)-1)
			(void)!write(STDOUT_FILENO, c, strlen(c));
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tios);
	}
	if (child > 0)
		kill(child, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void ui_end(void)
{
	if (ui_active) {
		endwin();
		ui_active = 0;
	}
}

static void child_stop(void)
{
	int st;

	if (child <= 0)
		return;
	kill(child, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(child, &st, WNOHANG) == child) {
			child = -1;
			return;
		}
		usleep(100000);
	}
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	child = -1;
}

static void at_exit(void)
{
	ui_end();
	child_stop();
}

/* ----------------------------------------------------------- options */

static void usage(FILE *f)
{
	fprintf(f, "Usage: mcptop [--url URL] [-d SECONDS] [-b] [-n N]\n"
		   "Live view of MCP traffic from mcpwire's JSON API.\n"
		   "\n"
		   "  --url URL        mcpwire to read (default " MCPTOP_DEFAULT_URL ")\n"
		   "  -d SECONDS       refresh interval (default 2)\n"
		   "  -b               batch mode: plain-text snapshots on stdout, as top -b\n"
		   "  -n N             stop after N refreshes\n"
		   "  --log FILE       log file (default $XDG_STATE_HOME/mcptop.log or\n"
		   "                   ~/.local/state/mcptop.log)\n"
		   "  --mcpwire PATH   daemon started when none answers and mcptop is root\n"
		   "                   (default: mcpwire next to mcptop, else in PATH)\n"
		   "  --no-spawn       never start mcpwire\n"
		   "  -h, --help       this text\n"
		   "  -V, --version    print the version\n"
		   "\n"
		   "Keys: j/k or arrows move, Enter details, Esc back, s sort, f filter,\n"
		   "? help, q quit.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_URL = 256, OPT_LOG, OPT_MCPWIRE, OPT_NOSPAWN };
	static const struct option longopts[] = {
	    {"url", required_argument, NULL, OPT_URL},
	    {"log", required_argument, NULL, OPT_LOG},
	    {"mcpwire", required_argument, NULL, OPT_MCPWIRE},
	    {"no-spawn", no_argument, NULL, OPT_NOSPAWN},
	    {"batch", no_argument, NULL, 'b'},
	    {"delay", required_argument, NULL, 'd'},
	    {"iterations", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	char *end;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":bd:n:hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_LOG:
			o->log = optarg;
			break;
		case OPT_MCPWIRE:
			o->mcpwire = optarg;
			break;
		case OPT_NOSPAWN:
			o->no_spawn = 1;
			break;
		case 'b':
			o->batch = 1;
			break;
		case 'd':
			errno = 0;
			o->delay = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(o->delay >= 0.1 && o->delay <= 3600)) {
				fprintf(stderr,
					"mcptop: bad value '%s' for -d (expected seconds "
					"from 0.1 to 3600)\n",
					optarg);
				return -1;
			}
			break;
		case 'n':
			errno = 0;
			o->iterations = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->iterations < 1) {
				fprintf(stderr,
					"mcptop: bad value '%s' for -n (expected a "
					"positive count)\n",
					optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("mcptop %s\n", MCPWIRE_VERSION);
			return 1;
		case ':':
			fprintf(stderr, "mcptop: option %s needs a value (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "mcptop: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mcptop: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}

static void open_log(const char *path)
{
	char buf[PATH_MAX];
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (!path) {
		if (state && *state)
			snprintf(buf, sizeof(buf), "%s", state);
		else if (home && *home)
			snprintf(buf, sizeof(buf), "%s/.local/state", home);
		else
			return;
		/* mkdir -p of the two levels at most that may be missing */
		mkdir(dirname(strdupa(buf)), 0700);
		mkdir(buf, 0700);
		strncat(buf, "/mcptop.log", sizeof(buf) - strlen(buf) - 1);
		path = buf;
	}
	logf_ = fopen(path, "ae");
}

/* ----------------------------------------------------------- capture child */

static int url_is_loopback(const struct fetch_url *u)
{
	return !strcmp(u->host, "127.0.0.1") || !strcmp(u->host, "localhost") ||
	       !strcmp(u->host, "::1");
}

static uint16_t free_loopback_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint16_t port = 0;

	if (fd < 0)
		return 0;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* The mcpwire binary: --mcpwire, $MCPTOP_MCPWIRE, beside /proc/self/exe,
 * else "mcpwire" for execvp() to find in PATH. */
static const char *mcpwire_path(const char *opt, char *buf, size_t len)
{
	const char *env = getenv("MCPTOP_MCPWIRE");
	char self[PATH_MAX];
	ssize_t n;

	if (opt)
		return opt;
	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, len, "%s/mcpwire", dirname(self));
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return "mcpwire";
}

/* The last non-empty line of the log from offset on, for an error message. */
static void log_tail_line(const char *path, long from, char *out, size_t len)
{
	FILE *f = path ? fopen(path, "re") : NULL;
	char line[512];

	out[0] = '\0';
	if (!f)
		return;
	fseek(f, from, SEEK_SET);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			snprintf(out, len, "%s", line);
	}
	fclose(f);
}

/* Starts mcpwire on a free loopback port and waits until its API reports the
 * capture attached. 0, or -1 with err set. */
static int spawn_capture(const char *log_path, char *err, size_t errlen)
{
	static char spawned_url[64];
	char pathbuf[PATH_MAX], listen[32], lastline[512];
	const char *bin = mcpwire_path(g.o.mcpwire, pathbuf, sizeof(pathbuf));
	long log_off = logf_ ? ftell(logf_) : 0;
	uint16_t port = free_loopback_port();
	struct timespec ts = {.tv_nsec = 100 * 1000000};
	pid_t parent = getpid();
	int st;

	if (!port) {
		snprintf(err, errlen, "no free loopback port for mcpwire");
		return -1;
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	logmsg("no mcpwire answers at %s: starting %s --listen %s", g.o.url, bin, listen);
	child = fork();
	if (child < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (child == 0) {
		int devnull = open("/dev/null", O_RDWR);
		int out = logf_ ? fileno(logf_) : devnull;

		/* the capture must not outlive a SIGKILLed mcptop */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		dup2(devnull, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
		execlp(bin, "mcpwire", "--listen", listen, (char *)NULL);
		dprintf(STDERR_FILENO, "mcpwire: cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	snprintf(spawned_url, sizeof(spawned_url), "http://%s", listen);
	fetch_parse_url(spawned_url, &g.url, err, errlen);
	g.o.url = spawned_url;
	for (int i = 0; i < MCPTOP_SPAWN_WAIT_S * 10; i++) {
		char *body = NULL;
		size_t len;
		int rc;

		if (waitpid(child, &st, WNOHANG) == child) {
			child = -1;
			if (logf_)
				fflush(logf_);
			log_tail_line(log_path, log_off, lastline, sizeof(lastline));
			snprintf(err, errlen, "started mcpwire, which exited: %s",
				 lastline[0] ? lastline : "(no message; see --log)");
			return -1;
		}
		rc = fetch_get(&g.url, "/api/v1/health", 500, &body, &len, err, errlen);
		free(body);
		if (rc == 200) {
			logmsg("mcpwire pid %d capturing, API at %s", (int)child, spawned_url);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	snprintf(err, errlen, "started mcpwire, but it was not capturing within %d s",
		 MCPTOP_SPAWN_WAIT_S);
	child_stop();
	return -1;
}

/* ----------------------------------------------------------- polling */

static struct row *row_get(const char *kind, const char *server, const char *name)
{
	char key[sizeof(((struct row *)0)->key)];

	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", kind, server, name ? name : "");
	for (int i = 0; i < g.nrows; i++)
		if (!strcmp(g.rows[i].key, key))
			return &g.rows[i];
	if (g.nrows == MCPTOP_MAX_ROWS)
		return NULL;
	if (!(g.nrows & (g.nrows - 1)) || !g.rows) {
		struct row *nr = realloc(g.rows, (g.nrows ? g.nrows * 2 : 16) * sizeof(*nr));

		if (!nr)
			return NULL;
		g.rows = nr;
	}
	snprintf(g.rows[g.nrows].key, sizeof(key), "%s", key);
	/* sparkline columns of at least 5 s: a line of 20 covers minutes */
	stats_series_init(&g.rows[g.nrows].ser, g.o.delay > 5 ? g.o.delay : 5);
	stats_series_init(&g.rows[g.nrows].cser, g.o.delay > 5 ? g.o.delay : 5);
	return &g.rows[g.nrows++];
}

static void push_stat(const char *kind, const char *server, const struct mt_stat *st, double t)
{
	struct row *r = row_get(kind, server, kind[0] == 'S' ? NULL : st->name);

	if (!r)
		return;
	stats_series_push(&r->ser, t, st->calls, st->errors, st->counts, g.servers.nbounds + 1);
	stats_series_push(&r->cser, t, st->client_count, 0, st->client_counts,
			  g.servers.nbounds + 1);
}

/* Quantiles of both sides of a row over the window; NAN where none. */
static void row_views(const struct row *r, struct stats_view *v, struct stats_view *cv)
{
	static const struct stats_series none;

	stats_series_view(r ? &r->ser : &none, g.servers.bounds, g.servers.nbounds,
			  MCPTOP_QWINDOW_S, v);
	stats_series_view(r ? &r->cser : &none, g.servers.bounds, g.servers.nbounds,
			  MCPTOP_QWINDOW_S, cv);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One poll of both documents. 0, or -1 with g.status set. */
static int poll_api(void)
{
	char *body = NULL, err[256] = "", path[64];
	struct mt_calls calls = {0};
	size_t len;
	double t;
	int rc;

	rc = fetch_get(&g.url, "/api/v1/servers", MCPTOP_TIMEOUT_MS, &body, &len, err, sizeof(err));
	if (rc != 200) {
		if (rc > 0)
			snprintf(err, sizeof(err), "%s/api/v1/servers answered HTTP %d", g.o.url,
				 rc);
		goto fail;
	}
	if (mt_parse_servers(body, len, &g.servers, err, sizeof(err)))
		goto fail;
	free(body);
	body = NULL;
	/* rates over our own poll times: the snapshot's "time" is when mcpwire
	 * last published, which stands still while nothing changes */
	t = mono_s();
	for (int i = 0; i < g.servers.n; i++) {
		const struct mt_server *s = &g.servers.v[i];

		push_stat("S", s->st.name, &s->st, t);
		for (int j = 0; j < s->nmethods; j++)
			push_stat("M", s->st.name, &s->methods[j], t);
		for (int j = 0; j < s->ntools; j++)
			push_stat("T", s->st.name, &s->tools[j], t);
	}

	snprintf(path, sizeof(path), "/api/v1/calls?since=%llu", (unsigned long long)g.last_seq);
	rc = fetch_get(&g.url, path, MCPTOP_TIMEOUT_MS, &body, &len, err, sizeof(err));
	if (rc == 200 && !mt_parse_calls(body, len, &calls, err, sizeof(err))) {
		if (calls.reset)
			g.ntail = 0;
		if (calls.missed)
			logmsg("tail: %llu calls passed between two polls unseen",
			       (unsigned long long)calls.missed);
		for (int i = 0; i < calls.n; i++) {
			/* a server that ignores since= must not repeat the tail */
			if (!calls.reset && calls.v[i].seq <= g.last_seq)
				continue;
			g.tail_head = (g.tail_head + 1) % MCPTOP_TAIL;
			g.tail[g.tail_head] = calls.v[i];
			if (g.ntail < MCPTOP_TAIL)
				g.ntail++;
		}
		g.last_seq = calls.last_seq;
		mt_calls_free(&calls);
	}
	free(body);
	g.status[0] = '\0';
	return 0;
fail:
	free(body);
	snprintf(g.status, sizeof(g.status), "%s", err);
	logmsg("poll: %s", err);
	return -1;
}

/* ----------------------------------------------------------- table model */

static int line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	double dx = 0, dy = 0;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1; /* detail: methods before tools */
	switch (g.sort) {
	case SORT_RATE:
		dx = x->v.rate, dy = y->v.rate;
		break;
	case SORT_ERR:
		dx = x->v.err_pct, dy = y->v.err_pct;
		break;
	case SORT_P95:
		dx = x->v.p95, dy = y->v.p95;
		break;
	case SORT_CALLS:
		dx = (double)x->st->calls, dy = (double)y->st->calls;
		break;
	default:
		break;
	}
	if (isnan(dx))
		dx = -1;
	if (isnan(dy))
		dy = -1;
	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(x->st->name, y->st->name);
}

static int matches(const char *name)
{
	return !g.filter[0] || strcasestr(name, g.filter);
}

static const struct mt_server *find_server(const char *name)
{
	for (int i = 0; i < g.servers.n; i++)
		if (!strcmp(g.servers.v[i].st.name, name))
			return &g.servers.v[i];
	return NULL;
}

static void add_line(const struct mt_stat *st, const struct mt_server *srv, char kind,
		     const char *server)
{
	struct line *l = &g.tab[g.ntab++];
	char k[2] = {kind, 0};

	l->st = st;
	l->srv = srv;
	l->kind = kind;
	l->row = row_get(k, server, kind == 'S' ? NULL : st->name);
	row_views(l->row, &l->v, &l->cv);
}

/* Some row of the table has a client side: the client columns are shown. */
static int client_seen(void)
{
	for (int i = 0; i < g.ntab; i++)
		if (g.tab[i].st->client_count)
			return 1;
	return 0;
}

static void build_lines(void)
{
	int cap = 0;

	free(g.tab);
	g.tab = NULL;
	g.ntab = 0;
	if (g.detail) {
		const struct mt_server *s = find_server(g.detail_name);

		if (!s)
			return;
		cap = s->nmethods + s->ntools;
		g.tab = calloc(cap ? cap : 1, sizeof(*g.tab));
		for (int i = 0; g.tab && i < s->nmethods; i++)
			if (matches(s->methods[i].name))
				add_line(&s->methods[i], NULL, 'M', s->st.name);
		for (int i = 0; g.tab && i < s->ntools; i++)
			if (matches(s->tools[i].name))
				add_line(&s->tools[i], NULL, 'T', s->st.name);
	} else {
		g.tab = calloc(g.servers.n ? g.servers.n : 1, sizeof(*g.tab));
		for (int i = 0; g.tab && i < g.servers.n; i++)
			if (matches(g.servers.v[i].st.name))
				add_line(&g.servers.v[i].st, &g.servers.v[i], 'S',
					 g.servers.v[i].st.name);
	}
	qsort(g.tab, g.ntab, sizeof(*g.tab), line_cmp);
	if (g.sel >= g.ntab)
		g.sel = g.ntab ? g.ntab - 1 : 0;
}

/* ----------------------------------------------------------- batch */

static void batch_line(const struct line *l, const char *indent)
{
	char rate[16], p50[16], p95[16], p99[16], c50[16], c95[16], err[16],
	    name[MT_NAME_MAX + 16];

	stats_fmt_rate(l->v.rate, rate, sizeof(rate));
	stats_fmt_seconds(l->v.p50, p50, sizeof(p50));
	stats_fmt_seconds(l->v.p95, p95, sizeof(p95));
	stats_fmt_seconds(l->v.p99, p99, sizeof(p99));
	stats_fmt_seconds(l->cv.p50, c50, sizeof(c50));
	stats_fmt_seconds(l->cv.p95, c95, sizeof(c95));
	if (isnan(l->v.err_pct))
		snprintf(err, sizeof(err), "-");
	else
		snprintf(err, sizeof(err), "%.1f", l->v.err_pct);
	snprintf(name, sizeof(name), "%s%s%s", indent,
		 l->kind == 'M'	  ? "method "
		 : l->kind == 'T' ? "tool "
				  : "",
		 l->st->name);
	printf("%-40s %8s %6s %8s %8s %8s %8s %8s", name, rate, err, p50, p95, p99, c50, c95);
	if (l->srv)
		printf(" %5lld %5lld", (long long)l->srv->in_flight, (long long)l->srv->sessions);
	else
		printf(" %5s %5s", "", "");
	printf(" %8llu %7llu %7llu\n", (unsigned long long)l->st->calls,
	       (unsigned long long)l->st->errors, (unsigned long long)l->st->cancelled);
}

static void batch_print(void)
{
	char ts[32];
	time_t now = (time_t)g.servers.time;
	double total = 0;
	int any = 0;

	build_lines();
	for (int i = 0; i < g.ntab; i++)
		if (!isnan(g.tab[i].v.rate))
			total += g.tab[i].v.rate, any = 1;
	strftime(ts, sizeof(ts), "%F %T", localtime(&now));
	printf("mcptop %s - %s - %s - %d server%s - ", MCPWIRE_VERSION, g.o.url, ts, g.servers.n,
	       g.servers.n == 1 ? "" : "s");
	if (any)
		printf("%.1f calls/s\n", total);
	else
		printf("- calls/s\n");
	printf("%-40s %8s %6s %8s %8s %8s %8s %8s %5s %5s %8s %7s %7s\n", "SERVER", "CALLS/S",
	       "ERR%", "P50", "P95", "P99", "CLI_P50", "CLI_P95", "INFL", "SESS", "CALLS", "ERRORS",
	       "CANCEL");
	for (int i = 0; i < g.ntab; i++) {
		const struct mt_server *s = g.tab[i].srv;
		struct line l;

		batch_line(&g.tab[i], "");
		for (int j = 0; j < s->nmethods; j++) {
			l = (struct line){.st = &s->methods[j], .kind = 'M'};
			l.row = row_get("M", s->st.name, s->methods[j].name);
			row_views(l.row, &l.v, &l.cv);
			batch_line(&l, "  ");
		}
		for (int j = 0; j < s->ntools; j++) {
			l = (struct line){.st = &s->tools[j], .kind = 'T'};
			l.row = row_get("T", s->st.name, s->tools[j].name);
			row_views(l.row, &l.v, &l.cv);
			batch_line(&l, "  ");
		}
	}
	printf("\n");
	fflush(stdout);
}

/* ----------------------------------------------------------- screen */

static int err_attr(double pct)
{
	if (!g.colors || isnan(pct))
		return 0;
	if (pct >= 5)
		return COLOR_PAIR(PAIR_RED) | A_BOLD;
	if (pct >= 1)
		return COLOR_PAIR(PAIR_YELLOW);
	return 0;
}

/* Prints s cut to w display columns (UTF-8 aware enough for names: counts
 * bytes that start a character). */
static void put_cut(int y, int x, const char *s, int w)
{
	int cols = 0;
	const char *p = s;

	while (*p && cols < w) {
		p++;
		while ((*p & 0xc0) == 0x80)
			p++;
		cols++;
	}
	mvaddnstr(y, x, s, (int)(p - s));
}

static void draw_title(int W)
{
	char ts[16], line[512];
	time_t now = time(NULL);
	double total = 0;

	strftime(ts, sizeof(ts), "%T", localtime(&now));
	for (int i = 0; i < g.servers.n; i++) {
		const struct row *r = row_get("S", g.servers.v[i].st.name, NULL);
		struct stats_view v;

		if (!r)
			continue;
		stats_series_view(&r->ser, g.servers.bounds, g.servers.nbounds, 1, &v);
		if (!isnan(v.rate))
			total += v.rate;
	}
	attron(A_BOLD);
	snprintf(line, sizeof(line), "mcptop - %s%s - %d server%s - %.1f calls/s - %s", g.o.url,
		 child > 0 ? " (own capture)" : "", g.servers.n, g.servers.n == 1 ? "" : "s", total,
		 ts);
	put_cut(0, 0, line, W);
	attroff(A_BOLD);
	if (g.status[0]) {
		if (g.colors)
			attron(COLOR_PAIR(PAIR_RED) | A_BOLD);
		put_cut(1, 0, g.status, W);
		if (g.colors)
			attroff(COLOR_PAIR(PAIR_RED) | A_BOLD);
	} else if (g.detail) {
		const struct mt_server *s = find_server(g.detail_name);

		snprintf(line, sizeof(line),
			 "Server %s  version %s  protocol %s  transport %s  "
			 "sessions %lld  in flight %lld  (Esc: back)",
			 g.detail_name, s && s->version[0] ? s->version : "-",
			 s && s->protocol[0] ? s->protocol : "-",
			 s && s->transport[0] ? s->transport : "-", s ? (long long)s->sessions : 0,
			 s ? (long long)s->in_flight : 0);
		put_cut(1, 0, line, W);
	} else {
		put_cut(1, 0, "Servers", W);
	}
}

static void draw_row(int y, int W, const struct stats_layout *c, const struct line *l,
		     int selected)
{
	char rate[16], p50[16], p95[16], p99[16], c50[16], c95[16], err[16], infl[16] = "",
							   sess[16] = "", calls[24],
							   spark[STATS_SPARK * 4 + 1] = "",
							   name[MT_NAME_MAX + 8];
	int x = 0;

	stats_fmt_rate(l->v.rate, rate, sizeof(rate));
	stats_fmt_seconds(l->v.p50, p50, sizeof(p50));
	stats_fmt_seconds(l->v.p95, p95, sizeof(p95));
	stats_fmt_seconds(l->v.p99, p99, sizeof(p99));
	stats_fmt_seconds(l->cv.p50, c50, sizeof(c50));
	stats_fmt_seconds(l->cv.p95, c95, sizeof(c95));
	if (isnan(l->v.err_pct))
		snprintf(err, sizeof(err), "-");
	else
		snprintf(err, sizeof(err), "%.1f", l->v.err_pct);
	if (l->srv) {
		snprintf(infl, sizeof(infl), "%lld", (long long)l->srv->in_flight);
		snprintf(sess, sizeof(sess), "%lld", (long long)l->srv->sessions);
	}
	snprintf(calls, sizeof(calls), "%llu", (unsigned long long)l->st->calls);
	snprintf(name, sizeof(name), "%s%s",
		 l->kind == 'M'	  ? "M "
		 : l->kind == 'T' ? "T "
				  : "",
		 l->st->name);
	if (c->spark && l->row)
		stats_spark(&l->row->ser, c->spark, g.utf8, spark, sizeof(spark));
	if (selected)
		attron(A_REVERSE);
	mvhline(y, 0, ' ', W);
	put_cut(y, x, name, c->name - 1);
	x += c->name;
	mvprintw(y, x, "%8s ", rate);
	x += 9;
	if (!selected)
		attron(err_attr(l->v.err_pct));
	mvprintw(y, x, "%6s ", err);
	if (!selected)
		attroff(err_attr(l->v.err_pct));
	x += 7;
	mvprintw(y, x, "%8s %8s ", p50, p95);
	x += 9 * 2;
	if (c->p99) {
		mvprintw(y, x, "%8s ", p99);
		x += 9;
	}
	if (c->client == 2) {
		mvprintw(y, x, "%8s ", c50);
		x += 9;
	}
	if (c->client) {
		mvprintw(y, x, "%8s ", c95);
		x += 9;
	}
	mvprintw(y, x, "%5s %5s %8s", infl, sess, calls);
	x += 6 * 2 + 9;
	if (c->spark)
		mvaddstr(y, x, spark);
	if (selected)
		attroff(A_REVERSE);
}

static void draw_table(int y0, int h, int W)
{
	struct stats_layout c;
	char hdr[128];
	int n;

	stats_layout(W, client_seen(), MCPTOP_SPARK_W, &c);
	attron(g.colors ? COLOR_PAIR(PAIR_HEAD) | A_BOLD : A_REVERSE);
	mvhline(y0, 0, ' ', W);
	put_cut(y0, 0, g.detail ? "METHOD / TOOL" : "SERVER", c.name - 1);
	n = snprintf(hdr, sizeof(hdr), "%8s %6s %8s %8s ", "CALLS/S", "ERR%", "P50", "P95");
	if (c.p99)
		n += snprintf(hdr + n, sizeof(hdr) - n, "%8s ", "P99");
	if (c.client == 2)
		n += snprintf(hdr + n, sizeof(hdr) - n, "%8s ", "CLI P50");
	if (c.client)
		n += snprintf(hdr + n, sizeof(hdr) - n, "%8s ", "CLI P95");
	n += snprintf(hdr + n, sizeof(hdr) - n, "%5s %5s %8s", "INFL", "SESS", "CALLS");
	mvaddstr(y0, c.name, hdr);
	if (c.spark) {
		snprintf(hdr, sizeof(hdr), "CALLS/S, %.0fs/col", g.o.delay > 5 ? g.o.delay : 5.0);
		put_cut(y0, c.name + n + 1, hdr, c.spark);
	}
	attroff(g.colors ? COLOR_PAIR(PAIR_HEAD) | A_BOLD : A_REVERSE);
	h--;
	if (g.sel < g.top)
		g.top = g.sel;
	if (g.sel >= g.top + h)
		g.top = g.sel - h + 1;
	if (g.top < 0)
		g.top = 0;
	for (int i = 0; i < h && g.top + i < g.ntab; i++)
		draw_row(y0 + 1 + i, W, &c, &g.tab[g.top + i], g.top + i == g.sel);
	if (!g.ntab)
		mvaddstr(y0 + 1, 1,
			 g.filter[0]   ? "(nothing matches the filter)"
			 : g.servers.n ? "(no methods yet)"
				       : "(no MCP traffic seen yet)");
}

static void draw_tail(int y0, int h, int W)
{
	int shown = 0;

	attron(g.colors ? COLOR_PAIR(PAIR_HEAD) | A_BOLD : A_REVERSE);
	mvhline(y0, 0, ' ', W);
	put_cut(y0, 0, "RECENT CALLS (newest first)", W);
	attroff(g.colors ? COLOR_PAIR(PAIR_HEAD) | A_BOLD : A_REVERSE);
	for (int i = 0; i < g.ntail && shown < h - 1; i++) {
		const struct mt_call *c = &g.tail[(g.tail_head - i + MCPTOP_TAIL) % MCPTOP_TAIL];
		char ts[16], dur[16], what[2 * MT_NAME_MAX], line[3 * MT_NAME_MAX];
		time_t t = (time_t)c->time;
		int attr = 0;

		if (g.detail && strcmp(c->server, g.detail_name))
			continue;
		snprintf(what, sizeof(what), "%s%s%s", c->method, c->tool[0] ? " " : "", c->tool);
		if (!g.detail && !matches(c->server) && !matches(what))
			continue;
		if (g.detail && !matches(what))
			continue;
		strftime(ts, sizeof(ts), "%T", localtime(&t));
		snprintf(line, sizeof(line), "%s.%03d %8s  %-9s %-10s %s  %s", ts,
			 (int)((c->time - floor(c->time)) * 1000),
			 stats_fmt_seconds(c->seconds, dur, sizeof(dur)), c->status, c->code,
			 g.detail ? "" : c->server, what);
		if (g.colors && !strcmp(c->status, "error"))
			attr = COLOR_PAIR(PAIR_RED);
		else if (g.colors && !strcmp(c->status, "cancelled"))
			attr = COLOR_PAIR(PAIR_YELLOW);
		attron(attr);
		put_cut(y0 + 1 + shown, 0, line, W);
		attroff(attr);
		shown++;
	}
}

static void draw_footer(int y, int W)
{
	char line[256];

	attron(A_REVERSE);
	mvhline(y, 0, ' ', W);
	if (g.filtering) {
		snprintf(line, sizeof(line), "Filter: %s_   (Enter: keep, Esc: cancel)", g.filter);
	} else {
		snprintf(line, sizeof(line),
			 "q Quit  %s  j/k Move  s Sort:%s  f Filter%s%s%s  ? Help",
			 g.detail ? "Esc Back" : "Enter Detail", sort_names[g.sort],
			 g.filter[0] ? "[" : "", g.filter, g.filter[0] ? "]" : "");
	}
	put_cut(y, 0, line, W);
	attroff(A_REVERSE);
}

static void draw_help(int H, int W)
{
	static const char *const text[] = {
	    "mcptop keys",
	    "",
	    "j, Down      next row",
	    "k, Up        previous row",
	    "PgDn, PgUp   page down, up",
	    "g, G         first, last row",
	    "Enter, l     methods and tools of the server",
	    "Esc, h, Bksp back to the servers",
	    "s            next sort column",
	    "f            filter rows by name (Esc clears)",
	    "?            this help",
	    "q            quit",
	    "",
	    "P50/P95/P99: over the last 60 s, from histogram deltas.",
	    "CLI P50/P95: what clients on this host waited (60 s);",
	    "shown once a client side is seen. CLI minus P: network.",
	    "CALLS/S, ERR%: between the last two refreshes.",
	    "",
	    "any key closes this help",
	};
	int n = sizeof(text) / sizeof(text[0]), w = 60, h = n + 2;
	int y0 = (H - h) / 2, x0 = (W - w) / 2;

	if (y0 < 0)
		y0 = 0;
	if (x0 < 0)
		x0 = 0;
	for (int i = 0; i < h && y0 + i < H; i++) {
		mvhline(y0 + i, x0, ' ', w < W ? w : W);
		if (i == 0 || i == h - 1)
			mvhline(y0 + i, x0, ACS_HLINE, w < W ? w : W);
	}
	for (int i = 0; i < n; i++)
		put_cut(y0 + 1 + i, x0 + 2, text[i], W - x0 - 2);
}

static void draw(void)
{
	int H, W, tab_h, tail_h;

	getmaxyx(stdscr, H, W);
	erase();
	build_lines();
	if (H < 8 || W < 40) {
		put_cut(0, 0, "mcptop: terminal too small", W);
	} else {
		tail_h = (H - 3) / 3;
		tab_h = H - 3 - tail_h;
		draw_title(W);
		draw_table(2, tab_h, W);
		draw_tail(2 + tab_h, tail_h, W);
		draw_footer(H - 1, W);
		if (g.help)
			draw_help(H, W);
	}
	wnoutrefresh(stdscr);
	doupdate();
}

/* Returns 1 to quit. */
static int on_key(int ch)
{
	int H = getmaxy(stdscr), page = H > 8 ? (H - 3) * 2 / 3 - 1 : 1;

	if (g.help) {
		g.help = 0;
		return 0;
	}
	if (g.filtering) {
		size_t n = strlen(g.filter);

		if (ch == '\n' || ch == KEY_ENTER) {
			g.filtering = 0;
		} else if (ch == 27) {
			snprintf(g.filter, sizeof(g.filter), "%s", g.filter_saved);
			g.filtering = 0;
		} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			if (n)
				g.filter[n - 1] = '\0';
		} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(g.filter)) {
			g.filter[n] = (char)ch;
			g.filter[n + 1] = '\0';
		}
		g.sel = g.top = 0;
		return 0;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case 'j':
	case KEY_DOWN:
		if (g.sel + 1 < g.ntab)
			g.sel++;
		break;
	case 'k':
	case KEY_UP:
		if (g.sel > 0)
			g.sel--;
		break;
	case KEY_NPAGE:
		g.sel = g.sel + page < g.ntab ? g.sel + page : (g.ntab ? g.ntab - 1 : 0);
		break;
	case KEY_PPAGE:
		g.sel = g.sel > page ? g.sel - page : 0;
		break;
	case 'g':
	case KEY_HOME:
		g.sel = 0;
		break;
	case 'G':
	case KEY_END:
		g.sel = g.ntab ? g.ntab - 1 : 0;
		break;
	case '\n':
	case KEY_ENTER:
	case 'l':
	case KEY_RIGHT:
		if (!g.detail && g.sel < g.ntab) {
			snprintf(g.detail_name, sizeof(g.detail_name), "%s", g.tab[g.sel].st->name);
			g.detail = 1;
			g.sel = g.top = 0;
			g.filter[0] = '\0';
		}
		break;
	case 27:
	case 'h':
	case KEY_LEFT:
	case KEY_BACKSPACE:
	case 127:
		if (g.detail) {
			g.detail = 0;
			g.sel = g.top = 0;
			g.filter[0] = '\0';
		} else if (ch == 27) {
			g.filter[0] = '\0';
		}
		break;
	case 's':
		g.sort = (g.sort + 1) % SORT__N;
		break;
	case 'f':
	case '/':
		snprintf(g.filter_saved, sizeof(g.filter_saved), "%s", g.filter);
		g.filtering = 1;
		break;
	case '?':
		g.help = 1;
		break;
	default:
		break;
	}
	return 0;
}

static int run_ui(void)
{
	double next = 0;
	long polls = 0;
	int st;

	if (tcgetattr(STDIN_FILENO, &saved_tios) == 0)
		saved_tios_ok = 1;
	if (!initscr()) {
		fprintf(stderr, "mcptop: cannot initialise the terminal\n");
		return 1;
	}
	tty_rmcup = tigetstr("rmcup");
	tty_cnorm = tigetstr("cnorm");
	ui_active = 1;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	/* getch() wakes every 100 ms: keys answer at once, signals within 0.1 s */
	timeout(100);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_RED, COLOR_RED, -1);
		init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
		init_pair(PAIR_GREEN, COLOR_GREEN, -1);
		init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_HEAD, COLOR_BLACK, COLOR_GREEN);
		g.colors = 1;
	}
	while (!stop_flag) {
		int ch;

		if (mono_s() >= next) {
			if (g.o.iterations && polls == g.o.iterations)
				break;
			poll_api();
			polls++;
			next = mono_s() + g.o.delay;
			if (child > 0 && waitpid(child, &st, WNOHANG) == child) {
				child = -1;
				snprintf(g.status, sizeof(g.status),
					 "the mcpwire mcptop started has exited (see the log)");
			}
			draw();
		}
		ch = getch();
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			/* ncurses has resized stdscr; a full repaint clears leftovers */
			clearok(curscr, TRUE);
			draw();
			continue;
		}
		if (on_key(ch))
			break;
		draw();
	}
	ui_end();
	return 0;
}

static int run_batch(void)
{
	for (long i = 0; !stop_flag && (!g.o.iterations || i < g.o.iterations); i++) {
		struct timespec ts;
		double d = g.o.delay;

		if (i) {
			ts.tv_sec = (time_t)d;
			ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
			while (nanosleep(&ts, &ts) && errno == EINTR && !stop_flag)
				;
			if (stop_flag)
				break;
		}
		if (poll_api()) {
			fprintf(stderr, "mcptop: %s\n", g.status);
			return 1;
		}
		batch_print();
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_stop}, crash = {.sa_handler = on_crash};
	char err[512] = "", logbuf[PATH_MAX] = "", *body = NULL;
	const char *log_path;
	size_t len;
	int rc;

	g.o = (struct opts){.url = MCPTOP_DEFAULT_URL, .delay = 2};
	rc = parse_args(argc, argv, &g.o);
	if (rc)
		return rc > 0 ? 0 : 2;
	setlocale(LC_ALL, "");
	g.utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	open_log(g.o.log);
	log_path = g.o.log;
	if (!log_path && logf_) {
		snprintf(logbuf, sizeof(logbuf), "/proc/self/fd/%d", fileno(logf_));
		log_path = logbuf;
	}
	if (fetch_parse_url(g.o.url, &g.url, err, sizeof(err))) {
		fprintf(stderr, "mcptop: %s\n", err);
		return 2;
	}
	atexit(at_exit);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGSEGV, &crash, NULL);
	sigaction(SIGABRT, &crash, NULL);
	sigaction(SIGBUS, &crash, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = fetch_get(&g.url, "/api/v1/health", MCPTOP_TIMEOUT_MS, &body, &len, err, sizeof(err));
	free(body);
	if (rc < 0) {
		if (geteuid() == 0 && !g.o.no_spawn && url_is_loopback(&g.url)) {
			if (spawn_capture(log_path, err, sizeof(err))) {
				fprintf(stderr, "mcptop: %s\n", err);
				return 1;
			}
		} else {
			fprintf(stderr,
				"mcptop: no mcpwire answers at %s (%s); start mcpwire, or "
				"run mcptop as root to capture by itself\n",
				g.o.url, err);
			return 1;
		}
	} else if (rc == 404) {
		fprintf(stderr,
			"mcptop: %s answers, but has no /api/v1/ (not mcpwire, or an "
			"older one)\n",
			g.o.url);
		return 1;
	}
	logmsg("mcptop %s reading %s", MCPWIRE_VERSION, g.o.url);
	rc = g.o.batch ? run_batch() : run_ui();
	logmsg("mcptop exits");
	return rc;
}
