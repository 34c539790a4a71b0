/* workflow.h: the states of an application and the actions between them, as data.
 *
 * The workflow is not compiled in: data/workflow.json (the setting workflow names another
 * file) defines it, and workflow_load() reads it once at start, before any thread, refusing a
 * file that is malformed or unsound with an error naming the bad entry. Every consumer asks
 * it: who may take an action, where it leads, what it does to the clock (cases/), whether its
 * leaf is a decision (ledger/), which states conclude a case and which action counts in the
 * rollups (stats/), whether the applicant's message asks them to act (notify/), how its button
 * looks (the staff console). Words are the catalogs': case_state_<state>, case_action_<action>,
 * case_event_<action>, notify_title_/notify_body_<action>.
 *
 * The default workflow (办件流程): draft -> submitted -> accepted (受理; the clock starts) ->
 * under review -> approved -> completed (办结), with not accepted (不予受理), supplement
 * requested (补正: the clock stops until the applicant resubmits), special procedure (特别程序:
 * the clock stops), denied and withdrawn on the way. Where an item's fee falls due (before
 * acceptance or after approval, src/pay), the hall itself requests payment (待缴费: the clock
 * stands still) and, once the payment is confirmed, returns the case to where it was.
 * workflow_check() proves that a table is sound: every state reachable from the first, every
 * non-terminal state has a way out, every action names who may take it.
 */
#ifndef GH_WORKFLOW_H
#define GH_WORKFLOW_H
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Who may take an action. */
enum wf_actor {
	WF_APPLICANT = 1 << 0, /* the applicant, or an agent of the enterprise applying */
	WF_COUNTER = 1 << 1,   /* staff of the item's department with the counter duty */
	WF_REVIEWER = 1 << 2,  /* staff of the department with the reviewer duty */
	WF_HEAD = 1 << 3,      /* the department head */
	WF_SYSTEM = 1 << 4,    /* the hall itself (a fee falls due, a payment is confirmed) */
};

/* What the staff page's form of an action asks for besides a reason (detail.c). */
enum wf_input {
	WF_INPUT_NONE = 0,
	WF_INPUT_MISSING,     /* "missing_materials": which materials are missing (detail {"missing"}) */
	WF_INPUT_FILES,       /* "materials": the materials again, as files (detail {"supplied"}) */
	WF_INPUT_DELIVERY,    /* "delivery": how the result goes out (detail {"delivery"}) */
	WF_INPUT_LEGAL_BASIS, /* "legal_basis": the law a refusal rests on (detail {"legal_basis"}) */
};

/* What an action does to the clock. */
enum wf_clock {
	WF_CLOCK_NONE = 0,
	WF_CLOCK_START,  /* acceptance: the promised and legal limits start counting */
	WF_CLOCK_PAUSE,  /* supplement requested, special procedure */
	WF_CLOCK_RESUME, /* material supplied, special procedure over */
	WF_CLOCK_STOP,   /* a decision or a withdrawal: the case leaves the clock */
};

struct wf_state {
	const char *code;      /* stored in applications.state; its words: the catalogs' case_state_<code> */
	bool terminal;
	bool paused;           /* the clock stands still in this state */
	bool decided;          /* a decision was made (approved, denied, not accepted...) */
	bool concluded;        /* 办结: counted as concluded in the statistics (stats/rollup.c) */
};

struct wf_action {
	const char *code;      /* "accept", "approve", ...; its words: the catalogs' case_action_<code> (a
	                        * button) and case_event_<code> (what happened, in timelines) */
	const char *from[8];   /* states it applies to (NULL-terminated) */
	const char *to;        /* target state; NULL = back to the state the case came from */
	unsigned actors;       /* WF_* bits */
	enum wf_clock clock;
	bool needs_reason;     /* a refusal, denial, supplement or special procedure says why */
	bool logged;           /* a decision: its leaf in the transparency log is of kind "decision"
				* (every other transition's is "transition"; ledger_is_decision) */
	const char *counts;    /* the statistics rollup metric it adds one to (stats/rollup.c), or NULL */
	bool asks_applicant;   /* the applicant's message asks them to act (notify topic "action") */
	const char *button;    /* the staff button's look: "danger", "secondary" or NULL (plain) */
	enum wf_input input;   /* what its form asks for besides a reason */
};

/* A workflow as loaded: its tables, and the words it brings ({"zh": {...}, "en": {...}} or
 * NULL), all owned by it. */
struct workflow {
	struct wf_state *states;
	size_t ns;
	struct wf_action *actions;
	size_t na;
	json_t *words;
	json_t *_root; /* the parsed file: the strings above point into it */
};

/* The workflow in force (workflow_load); empty until then. Read-only once threads run. */
extern const struct wf_state *wf_states;
extern size_t wf_states_n;
extern const struct wf_action *wf_actions;
extern size_t wf_actions_n;

/* Parses a workflow definition (JSON text of len bytes; name names it in errors) strictly:
 * unknown members, wrong types, bad codes, duplicates, unknown actors or clock effects and
 * an unsound table (workflow_check) are refused with the entry named in err. Returns 0 and
 * *out (free with workflow_free), or GH_EINVAL. */
int workflow_parse(const char *text, size_t len, const char *name, struct workflow **out, char *err, size_t errlen);
void workflow_free(struct workflow *w);
/* Reads the file at path, parses it and puts it in force (replacing any earlier one: call
 * before threads start). Returns 0, or GH_EINVAL / GH_EIO with the problem in err. */
int workflow_load(const char *path, char *err, size_t errlen);
/* The words of the workflow in force (NULL: none). */
const json_t *workflow_words(void);

const struct wf_state *wf_state(const char *code);
const struct wf_action *wf_action(const char *code);
/* True when action applies to state. */
bool wf_allows(const struct wf_action *a, const char *state);

/* Checks the table; returns 0, or -1 with the problem in err. The first state is where an
 * application starts. */
int workflow_check(const struct wf_state *states, size_t ns, const struct wf_action *actions, size_t na,
		   char *err, size_t errlen);

#endif
