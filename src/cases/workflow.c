#include "cases/workflow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"

#define WF_MAX 64             /* states, and actions, at most */
#define WF_MAX_FILE (1 << 20) /* bytes of a workflow file */
#define WF_MAX_WORD 2000      /* bytes of one message the file brings */

static struct workflow *in_force;
const struct wf_state *wf_states;
size_t wf_states_n;
const struct wf_action *wf_actions;
size_t wf_actions_n;

/* What the hall's own code takes or names by code: a workflow without them cannot run it. */
static const char *const needed_actions[] = {
	"submit",           /* filing (cases/cases.c) */
	"instant_approve",  /* 秒批 (cases/rules.c) */
	"request_payment",  /* a fee falls due (pay/orders.c) */
	"payment_received", /* the fee paid (pay/orders.c) */
	"joint_forward",    /* 多地联办: on to the second hall's step (remote/joint.c) */
	"joint_approve",    /* ... approved there */
	"joint_deny",       /* ... refused there */
};

static const struct {
	const char *word;
	unsigned bit;
} actor_words[] = {
	{ "applicant", WF_APPLICANT }, { "counter", WF_COUNTER }, { "reviewer", WF_REVIEWER },
	{ "head", WF_HEAD },	       { "system", WF_SYSTEM },
};

static const char *const clock_words[] = { [WF_CLOCK_NONE] = "none",	 [WF_CLOCK_START] = "start",
					   [WF_CLOCK_PAUSE] = "pause",	 [WF_CLOCK_RESUME] = "resume",
					   [WF_CLOCK_STOP] = "stop" };

static const char *const input_words[] = { [WF_INPUT_NONE] = "none",
					   [WF_INPUT_MISSING] = "missing_materials",
					   [WF_INPUT_FILES] = "materials",
					   [WF_INPUT_DELIVERY] = "delivery",
					   [WF_INPUT_LEGAL_BASIS] = "legal_basis" };

/* The prefixes of the words a workflow file may bring: its states' and actions' own. */
static const char *const word_prefixes[] = { "case_state_",  "case_action_", "case_event_",
					     "notify_title_", "notify_body_", "notify_reason_" };

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return GH_EINVAL;
}

/* A code: 1 to 40 of a-z, 0-9 and _, starting with a letter. */
static bool code_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 40 || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* Checks that o has only the members named in allowed (NULL-terminated). */
static int only(json_t *o, const char *const *allowed, const char *name, const char *what, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		size_t i = 0;
		while (allowed[i] && strcmp(allowed[i], k) != 0)
			i++;
		if (!allowed[i])
			return fail(err, errlen, "%s: %s: unknown member \"%.40s\"", name, what, k);
	}
	return 0;
}

/* An optional boolean member (absent: false). */
static int flag(json_t *o, const char *key, bool *out, const char *name, const char *what, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (v && !json_is_boolean(v))
		return fail(err, errlen, "%s: %s: \"%s\" must be true or false", name, what, key);
	*out = json_is_true(v);
	return 0;
}

/* An optional code member (absent or null: NULL). */
static int code_member(json_t *o, const char *key, const char **out, const char *name, const char *what, char *err,
		       size_t errlen)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!code_ok(json_string_value(v)))
		return fail(err, errlen, "%s: %s: \"%s\" must be a code (a-z, 0-9 and _, at most 40)", name, what, key);
	*out = json_string_value(v);
	return 0;
}

static int parse_state(json_t *o, size_t i, struct wf_state *s, const char *name, char *err, size_t errlen)
{
	static const char *const members[] = { "code", "terminal", "paused", "decided", "concluded", NULL };
	char what[64];
	snprintf(what, sizeof(what), "states[%zu]", i);
	if (!json_is_object(o))
		return fail(err, errlen, "%s: %s is not an object", name, what);
	const char *code = json_string_value(json_object_get(o, "code"));
	if (!code_ok(code))
		return fail(err, errlen, "%s: %s: \"code\" must be a code (a-z, 0-9 and _, at most 40)", name, what);
	snprintf(what, sizeof(what), "state %s", code);
	s->code = code;
	int rc = only(o, members, name, what, err, errlen);
	if (!rc)
		rc = flag(o, "terminal", &s->terminal, name, what, err, errlen);
	if (!rc)
		rc = flag(o, "paused", &s->paused, name, what, err, errlen);
	if (!rc)
		rc = flag(o, "decided", &s->decided, name, what, err, errlen);
	if (!rc)
		rc = flag(o, "concluded", &s->concluded, name, what, err, errlen);
	return rc;
}

static int parse_actors(json_t *v, unsigned *bits, const char *name, const char *what, char *err, size_t errlen)
{
	size_t i;
	json_t *x;
	*bits = 0;
	if (!json_is_array(v) || !json_array_size(v))
		return fail(err, errlen, "%s: %s: \"actors\" must list who may take it", name, what);
	json_array_foreach(v, i, x) {
		const char *w = json_string_value(x);
		size_t k = 0;
		while (k < ARRAY_LEN(actor_words) && (!w || strcmp(actor_words[k].word, w) != 0))
			k++;
		if (k == ARRAY_LEN(actor_words))
			return fail(err, errlen, "%s: %s: unknown actor \"%.40s\" (applicant, counter, reviewer, head or system)",
				    name, what, w ? w : "?");
		if (*bits & actor_words[k].bit)
			return fail(err, errlen, "%s: %s: actor %s is named twice", name, what, w);
		*bits |= actor_words[k].bit;
	}
	return 0;
}

static int parse_from(json_t *v, struct wf_action *a, const char *name, const char *what, char *err, size_t errlen)
{
	size_t i, max = ARRAY_LEN(a->from) - 1;
	json_t *x;
	if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > max)
		return fail(err, errlen, "%s: %s: \"from\" must list 1 to %zu states", name, what, max);
	json_array_foreach(v, i, x) {
		if (!code_ok(json_string_value(x)))
			return fail(err, errlen, "%s: %s: \"from\"[%zu] is not a state code", name, what, i);
		a->from[i] = json_string_value(x);
	}
	a->from[i] = NULL;
	return 0;
}

/* An optional member naming one of words[0..n) (absent: 0): its index, or -1. */
static int word_of(json_t *v, const char *const *words, size_t n)
{
	const char *w = json_string_value(v);
	if (!v)
		return 0;
	for (size_t k = 0; w && k < n; k++)
		if (!strcmp(words[k], w))
			return (int)k;
	return -1;
}

static int parse_clock(json_t *v, enum wf_clock *out, const char *name, const char *what, char *err, size_t errlen)
{
	int k = word_of(v, clock_words, ARRAY_LEN(clock_words));
	*out = k < 0 ? WF_CLOCK_NONE : (enum wf_clock)k;
	return k < 0 ? fail(err, errlen, "%s: %s: \"clock\" must be none, start, pause, resume or stop", name, what) : 0;
}

static int parse_input(json_t *v, enum wf_input *out, const char *name, const char *what, char *err, size_t errlen)
{
	int k = word_of(v, input_words, ARRAY_LEN(input_words));
	*out = k < 0 ? WF_INPUT_NONE : (enum wf_input)k;
	return k < 0 ? fail(err, errlen, "%s: %s: \"input\" must be none, missing_materials, materials, delivery or "
				      "legal_basis", name, what)
		     : 0;
}

static int parse_button(json_t *v, const char **out, const char *name, const char *what, char *err, size_t errlen)
{
	const char *w = json_string_value(v);
	*out = NULL;
	if (!v)
		return 0;
	if (!w || (strcmp(w, "danger") != 0 && strcmp(w, "secondary") != 0))
		return fail(err, errlen, "%s: %s: \"button\" must be danger or secondary", name, what);
	*out = w;
	return 0;
}

static int parse_action(json_t *o, size_t i, struct wf_action *a, const char *name, char *err, size_t errlen)
{
	static const char *const members[] = { "code", "from", "to", "actors", "clock", "needs_reason", "logged",
					       "counts", "asks_applicant", "button", "input", NULL };
	char what[64];
	snprintf(what, sizeof(what), "actions[%zu]", i);
	if (!json_is_object(o))
		return fail(err, errlen, "%s: %s is not an object", name, what);
	const char *code = json_string_value(json_object_get(o, "code"));
	if (!code_ok(code))
		return fail(err, errlen, "%s: %s: \"code\" must be a code (a-z, 0-9 and _, at most 40)", name, what);
	snprintf(what, sizeof(what), "action %s", code);
	if (!strcmp(code, "claim") || !strcmp(code, "assign"))
		return fail(err, errlen, "%s: %s: claim and assign are the staff's own, not workflow actions", name, what);
	a->code = code;
	int rc = only(o, members, name, what, err, errlen);
	if (!rc)
		rc = parse_from(json_object_get(o, "from"), a, name, what, err, errlen);
	if (!rc)
		rc = code_member(o, "to", &a->to, name, what, err, errlen);
	if (!rc)
		rc = parse_actors(json_object_get(o, "actors"), &a->actors, name, what, err, errlen);
	if (!rc)
		rc = parse_clock(json_object_get(o, "clock"), &a->clock, name, what, err, errlen);
	if (!rc)
		rc = flag(o, "needs_reason", &a->needs_reason, name, what, err, errlen);
	if (!rc)
		rc = flag(o, "logged", &a->logged, name, what, err, errlen);
	if (!rc)
		rc = code_member(o, "counts", &a->counts, name, what, err, errlen);
	if (!rc)
		rc = flag(o, "asks_applicant", &a->asks_applicant, name, what, err, errlen);
	if (!rc)
		rc = parse_button(json_object_get(o, "button"), &a->button, name, what, err, errlen);
	if (!rc)
		rc = parse_input(json_object_get(o, "input"), &a->input, name, what, err, errlen);
	return rc;
}

static bool word_key_ok(const char *k)
{
	for (size_t i = 0; i < ARRAY_LEN(word_prefixes); i++) {
		size_t n = strlen(word_prefixes[i]);
		if (!strncmp(k, word_prefixes[i], n))
			return code_ok(k + n);
	}
	return false;
}

/* words: {"zh": {key: text}, "en": {key: text}} with the same keys in both, each one of a
 * state's or an action's own (word_prefixes). */
static int parse_words(json_t *w, const char *name, char *err, size_t errlen)
{
	static const char *const langs[] = { "zh", "en", NULL };
	if (!json_is_object(w))
		return fail(err, errlen, "%s: \"words\" must be an object {\"zh\": {...}, \"en\": {...}}", name);
	int rc = only(w, langs, name, "words", err, errlen);
	for (size_t l = 0; !rc && langs[l]; l++) {
		json_t *m = json_object_get(w, langs[l]), *other = json_object_get(w, langs[1 - l]), *v;
		const char *k;
		if (!json_is_object(m))
			return fail(err, errlen, "%s: words.%s must be an object of messages", name, langs[l]);
		json_object_foreach(m, k, v) {
			const char *t = json_string_value(v);
			if (!word_key_ok(k))
				return fail(err, errlen,
					    "%s: words.%s.%.60s: a workflow brings only case_state_, case_action_, case_event_, "
					    "notify_title_, notify_body_ and notify_reason_ words", name, langs[l], k);
			if (!t || !*t || strlen(t) > WF_MAX_WORD)
				return fail(err, errlen, "%s: words.%s.%s must be a text of 1 to %d bytes", name, langs[l], k,
					    WF_MAX_WORD);
			if (!json_object_get(other, k))
				return fail(err, errlen, "%s: words.%s.%s has no twin in words.%s", name, langs[l], k,
					    langs[1 - l]);
		}
	}
	return rc;
}

static int parse_list(json_t *root, const char *key, const char *name, size_t *n, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);
	if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > WF_MAX)
		return fail(err, errlen, "%s: \"%s\" must be a list of 1 to %d entries", name, key, WF_MAX);
	*n = json_array_size(v);
	return 0;
}

static int no_twins(const char *const *codes, size_t stride, size_t n, const char *kind, const char *name, char *err,
		    size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			const char *a = *(const char *const *)((const char *)codes + i * stride);
			const char *b = *(const char *const *)((const char *)codes + j * stride);
			if (!strcmp(a, b))
				return fail(err, errlen, "%s: %s %s is defined twice", name, kind, a);
		}
	return 0;
}

/* What the hall's code relies on: its first state is draft, the actions it takes exist. */
static int needs_met(const struct workflow *w, const char *name, char *err, size_t errlen)
{
	if (strcmp(w->states[0].code, "draft") != 0)
		return fail(err, errlen, "%s: the first state must be draft (where every application starts)", name);
	for (size_t i = 0; i < ARRAY_LEN(needed_actions); i++) {
		size_t k = 0;
		while (k < w->na && strcmp(w->actions[k].code, needed_actions[i]) != 0)
			k++;
		if (k == w->na)
			return fail(err, errlen, "%s: action %s is missing (the hall takes it itself)", name, needed_actions[i]);
	}
	return 0;
}

static int parse_tables(struct workflow *w, json_t *root, const char *name, char *err, size_t errlen)
{
	static const char *const members[] = { "about", "states", "actions", "words", NULL };
	if (!json_is_object(root))
		return fail(err, errlen, "%s: not a JSON object {\"states\": [...], \"actions\": [...]}", name);
	int rc = only(root, members, name, "the workflow", err, errlen);
	if (!rc && json_object_get(root, "about") && !json_is_string(json_object_get(root, "about")))
		rc = fail(err, errlen, "%s: \"about\" must be a text", name);
	if (!rc)
		rc = parse_list(root, "states", name, &w->ns, err, errlen);
	if (!rc)
		rc = parse_list(root, "actions", name, &w->na, err, errlen);
	if (rc)
		return rc;
	w->states = xcalloc(w->ns, sizeof(*w->states));
	w->actions = xcalloc(w->na, sizeof(*w->actions));
	for (size_t i = 0; !rc && i < w->ns; i++)
		rc = parse_state(json_array_get(json_object_get(root, "states"), i), i, &w->states[i], name, err, errlen);
	for (size_t i = 0; !rc && i < w->na; i++)
		rc = parse_action(json_array_get(json_object_get(root, "actions"), i), i, &w->actions[i], name, err, errlen);
	if (!rc)
		rc = no_twins(&w->states[0].code, sizeof(*w->states), w->ns, "state", name, err, errlen);
	if (!rc)
		rc = no_twins(&w->actions[0].code, sizeof(*w->actions), w->na, "action", name, err, errlen);
	if (!rc && (w->words = json_object_get(root, "words")))
		rc = parse_words(w->words, name, err, errlen);
	if (!rc)
		rc = needs_met(w, name, err, errlen);
	return rc;
}

int workflow_parse(const char *text, size_t len, const char *name, struct workflow **out, char *err, size_t errlen)
{
	json_error_t je;
	*out = NULL;
	if (len > WF_MAX_FILE)
		return fail(err, errlen, "%s: larger than %d bytes", name, WF_MAX_FILE);
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fail(err, errlen, "%s: line %d: %s", name, je.line, je.text);
	struct workflow *w = xcalloc(1, sizeof(*w));
	w->_root = root;
	int rc = parse_tables(w, root, name, err, errlen);
	if (!rc) {
		char why[400];
		if (workflow_check(w->states, w->ns, w->actions, w->na, why, sizeof(why)))
			rc = fail(err, errlen, "%s: %s", name, why);
	}
	if (rc) {
		workflow_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void workflow_free(struct workflow *w)
{
	if (!w)
		return;
	free(w->states);
	free(w->actions);
	json_decref(w->_root);
	free(w);
}

int workflow_load(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = read_file(path, WF_MAX_FILE + 1, &len);
	if (!text)
		return errno == ENOENT ? fail(err, errlen, "%s: no such file (the setting workflow names the workflow file)", path)
				       : fail(err, errlen, "%s: cannot be read: %s", path, strerror(errno));
	struct workflow *w;
	int rc = workflow_parse(text, len, path, &w, err, errlen);
	free(text);
	if (rc)
		return rc;
	workflow_free(in_force);
	in_force = w;
	wf_states = w->states;
	wf_states_n = w->ns;
	wf_actions = w->actions;
	wf_actions_n = w->na;
	return 0;
}

const json_t *workflow_words(void)
{
	return in_force ? in_force->words : NULL;
}

const struct wf_state *wf_state(const char *code)
{
	for (size_t i = 0; code && i < wf_states_n; i++)
		if (strcmp(wf_states[i].code, code) == 0)
			return &wf_states[i];
	return NULL;
}

const struct wf_action *wf_action(const char *code)
{
	for (size_t i = 0; code && i < wf_actions_n; i++)
		if (strcmp(wf_actions[i].code, code) == 0)
			return &wf_actions[i];
	return NULL;
}

bool wf_allows(const struct wf_action *a, const char *state)
{
	for (size_t i = 0; a->from[i]; i++)
		if (strcmp(a->from[i], state) == 0)
			return true;
	return false;
}

static int find_state(const struct wf_state *states, size_t ns, const char *code)
{
	for (size_t i = 0; code && i < ns; i++)
		if (strcmp(states[i].code, code) == 0)
			return (int)i;
	return -1;
}

int workflow_check(const struct wf_state *states, size_t ns, const struct wf_action *actions, size_t na,
		   char *err, size_t errlen)
{
	bool reach[64] = { false }, exit_[64] = { false };
	if (ns == 0 || ns > 64) {
		snprintf(err, errlen, "workflow: %zu states (1 to 64 allowed)", ns);
		return -1;
	}
	for (size_t i = 0; i < na; i++) {
		const struct wf_action *a = &actions[i];
		if (!a->actors) {
			snprintf(err, errlen, "workflow: action %s names nobody who may take it", a->code);
			return -1;
		}
		if (!a->from[0]) {
			snprintf(err, errlen, "workflow: action %s applies to no state", a->code);
			return -1;
		}
		for (size_t k = 0; a->from[k]; k++) {
			int s = find_state(states, ns, a->from[k]);
			if (s < 0) {
				snprintf(err, errlen, "workflow: action %s starts from unknown state %s", a->code, a->from[k]);
				return -1;
			}
			if (states[s].terminal) {
				snprintf(err, errlen, "workflow: action %s leaves terminal state %s", a->code, a->from[k]);
				return -1;
			}
			if (!a->to && !states[s].paused) {
				snprintf(err, errlen, "workflow: action %s returns from %s, which is not a paused state",
					 a->code, a->from[k]);
				return -1;
			}
			exit_[s] = true;
		}
		if (a->to && find_state(states, ns, a->to) < 0) {
			snprintf(err, errlen, "workflow: action %s leads to unknown state %s", a->code, a->to);
			return -1;
		}
	}
	/* Reachability from the first state; a return action reaches where its paused state was
	 * entered from. */
	reach[0] = true;
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < na; i++) {
			const struct wf_action *a = &actions[i];
			for (size_t k = 0; a->from[k]; k++) {
				int s = find_state(states, ns, a->from[k]);
				if (!reach[s] || !a->to)
					continue;
				int t = find_state(states, ns, a->to);
				if (!reach[t])
					reach[t] = changed = true;
			}
		}
	}
	for (size_t s = 0; s < ns; s++) {
		if (!reach[s]) {
			snprintf(err, errlen, "workflow: state %s cannot be reached", states[s].code);
			return -1;
		}
		if (!states[s].terminal && !exit_[s]) {
			snprintf(err, errlen, "workflow: state %s is a dead end but not terminal", states[s].code);
			return -1;
		}
		if (states[s].terminal && exit_[s]) {
			snprintf(err, errlen, "workflow: terminal state %s has a way out", states[s].code);
			return -1;
		}
	}
	return 0;
}
